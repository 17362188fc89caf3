"""A pretrain sweep over the three built-in pretexts, then ``init=`` each result downstream:
compare keeps one group per pretext, each paired with random init."""

from __future__ import annotations

import csv

from emkit.engine.launch.sweep import sweep
from emkit.report import write_report

SMALL = ["generator=unet", "generator.blocks=2", "generator.width=4", "train.batch_size=2", "train.device=cpu",
         "train.epochs=1"]


def test_pretext_sweep_then_each_result_downstream(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pre = sweep(["pretext=pix2pix,restore,masked", *SMALL, "pretext.crop=32", "train.steps_per_epoch=2",
                 "data=synthetic-stem", "data.size=48", "data.length=8", "data.val_length=2", "train.val_batches=1"],
                [], name="pre", runs_dir="runs")
    assert [p.name.split("-")[0] for p in pre] == ["pretext=pix2pix", "pretext=restore", "pretext=masked"]
    assert all((p / "generator.safetensors").exists() for p in pre)
    down = sweep([f"init=random,{','.join(map(str, pre))}", "seed=0,1", "task=background-removal", *SMALL,
                  "data=synthetic-stem", "data.size=48", "data.length=4", "data.val_length=2", "data.test_length=2",
                  "task.crop=32", "eval_epochs=[1]"], [], name="down", runs_dir="runs")
    report = write_report(down, tmp_path / "report", baselines=False)
    rows = [r for r in csv.DictReader(open(report.parent / "report.csv")) if r["metric"] == "l1"]
    assert {(r["pretext"], r["n"]) for r in rows} == {("pix2pix", "2"), ("restore", "2"), ("masked", "2"), ("–", "2")}
    pairs = [p for p in csv.DictReader(open(report.parent / "paired.csv")) if p["metric"] == "l1"]
    assert sorted(p["pretext"] for p in pairs) == ["masked", "pix2pix", "restore"]
    assert all(p["n"] == "2" for p in pairs)
