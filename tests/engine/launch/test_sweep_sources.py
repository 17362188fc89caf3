"""A sweep over two pretraining sources and random init gives three init groups in compare,
sizes by train_limit, and keep_best weights evaluated on the test split."""

from __future__ import annotations

import csv

import torch

from emkit.engine.launch.sweep import sweep
from emkit.engine.runs.weights import export_generator
from emkit.models import build_generator, generator_spec
from emkit.report import write_report

GEN = {"blocks": 2, "width": 4}


def pretrained(path, seed):
    torch.manual_seed(seed)
    gen = build_generator("unet", GEN)
    export_generator(path, generator_spec("unet", gen), gen)
    return path


def test_two_source_sweep_gives_two_p_groups(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from emkit.data.synthetic.export import write_synthetic

    write_synthetic("stem", tmp_path / "stem", 12, seed=0, size=32)
    a, b = pretrained(tmp_path / "pre" / "cem", 0), pretrained(tmp_path / "pre" / "other", 1)
    paths = sweep([f"init=random,{a},{b}", "data.train_limit=4,6", "task=denoise", "data=temimagenet",
                    f"data.root={tmp_path / 'stem'}", "data.val_fraction=0.2", "data.test_fraction=0.2",
                    "task.crop=32",
                    "generator=unet", "generator.blocks=2", "generator.width=4", "train.epochs=1",
                    "train.batch_size=2", "train.device=cpu", "eval_epochs=[1]", "train.keep_best=val_l1"],
                   [], name="s", runs_dir=str(tmp_path / "runs"))
    assert all((p / "eval_test_best.json").exists() for p in paths)
    report = write_report(paths, tmp_path / "report")
    rows = list(csv.DictReader(open(report.parent / "report.csv")))
    inits = {r["init"] for r in rows}
    assert inits == {"P (cem)", "P (other)", "R (default init)"}
    assert {r["train_items"] for r in rows} == {"4", "6"}
    assert {r["epoch"] for r in rows if r["metric"] == "l1"} == {"1", "best"}
    pairs = list(csv.DictReader(open(report.parent / "paired.csv")))
    assert {p["pretrained"] for p in pairs} == {"P (cem)", "P (other)"}
    text = report.read_text()
    assert "| baseline | identity |" in text and "paired P − R" in text
