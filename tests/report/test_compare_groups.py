"""compare groups by init source, model size and labelled-set size; pairs seeds; baselines."""

from __future__ import annotations

import csv

import h5py
import numpy as np
import pytest
import yaml

from emkit.engine.runs.metrics_log import MetricsLog
from emkit.report.compare import collect, model_labels, paired
from emkit.report.runs import load_run


def fake_run(root, name, init, seed, dice, *, width=8, train_limit=None, init_label=None):
    path = root / name
    path.mkdir(parents=True)
    cfg = {"init": init, "seed": seed, "eval_epochs": [1], "init_label": init_label,
           "task": {"name": "segmentation", "random_init": "default"},
           "data": {"name": "au-hdf5", "train_limit": train_limit},
           "generator": {"name": "unet", "blocks": 2, "width": width, "rf": None, "out_channels": 1}}
    (path / "config.yaml").write_text(yaml.safe_dump(cfg))
    log = MetricsLog(path / "metrics.csv")
    log.log("epoch", 1, 10, {"val_dice": dice, "test_dice": dice})
    log.close()
    return load_run(path)


def test_two_pretraining_sources_are_two_groups_and_pairs_are_per_seed(tmp_path):
    runs = [fake_run(tmp_path, f"a{s}", "runs/pre/cem", s, d) for s, d in enumerate([0.36, 0.35, 0.355])]
    runs += [fake_run(tmp_path, f"b{s}", "runs/pre/other/generator.safetensors", s, d)
             for s, d in enumerate([0.05, 0.06, 0.046])]
    runs += [fake_run(tmp_path, f"r{s}", "random", s, d) for s, d in enumerate([0.10, 0.30, 0.20])]
    rows = {r["init"]: r for r in collect(runs) if r["metric"] == "dice"}
    assert set(rows) == {"P (cem)", "P (other)", "R (default init)"}
    assert rows["P (cem)"]["n"] == 3 and rows["P (cem)"]["mean"] == pytest.approx(0.355)
    assert rows["P (other)"]["mean"] == pytest.approx(0.052)
    pairs = {p["pretrained"]: p for p in paired(runs) if p["metric"] == "dice"}
    assert pairs["P (cem)"]["mean_diff"] == pytest.approx(np.mean([0.26, 0.05, 0.155]))
    assert pairs["P (cem)"]["p_better"] == 3 and pairs["P (cem)"]["n"] == 3
    assert pairs["P (other)"]["p_better"] == 0


def test_model_labels_keep_sizes_and_sizes_and_labels_group(tmp_path):
    same = [fake_run(tmp_path, "s0", "random", 0, 0.1), fake_run(tmp_path, "s1", "random", 1, 0.2)]
    assert set(model_labels(same).values()) == {"unet(blocks=2, width=8)"}
    runs = same + [fake_run(tmp_path, "w", "random", 0, 0.3, width=16),
                   fake_run(tmp_path, "l8", "random", 0, 0.4, train_limit=8),
                   fake_run(tmp_path, "lab", "runs/x", 0, 0.5, init_label="CEM 50k")]
    cells = {(r["model"], r["init"], r["train_items"]) for r in collect(runs)}
    assert cells == {("unet(blocks=2, width=8)", "R (default init)", "all"),
                     ("unet(blocks=2, width=16)", "R (default init)", "all"),
                     ("unet(blocks=2, width=8)", "R (default init)", "8"),
                     ("unet(blocks=2, width=8)", "P (CEM 50k)", "all")}


SIZE = 32


def test_baselines_on_the_runs_test_split_have_known_values(tmp_path):
    from emkit.config import resolve
    from emkit.report.baselines import compute_baselines

    maps = np.zeros((6, 2, SIZE, SIZE), np.float32)
    maps[:, 1, : SIZE // 4] = 1  # particle = top quarter of every image
    with h5py.File(tmp_path / "au.h5", "w") as fh:
        fh["images"] = np.random.default_rng(0).normal(5, 2, (6, 1, SIZE, SIZE)).astype(np.float32)
        fh["maps"] = maps
    cfg = resolve(["task=segmentation", "data=au-hdf5", f"data.root={tmp_path / 'au.h5'}", "data.test_fraction=0.5",
                   "data.val_fraction=0.2", "generator=unet"])
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(cfg.to_yaml())
    rows, notes = compute_baselines([load_run(run)])
    got = {r["name"]: r["metrics"]["dice"] for r in rows}
    assert notes == []
    assert got["all foreground"] == pytest.approx(2 * 0.25 / 1.25, abs=1e-4)  # 2|T| / (|T| + |image|)
    assert got["all background"] == pytest.approx(0.0, abs=1e-4)


def test_identity_baseline_equals_the_tasks_identity_metric(tmp_path):
    from emkit.config import resolve
    from emkit.report.baselines import compute_baselines

    cfg = resolve(["task=denoise", "data=synthetic-stem", "data.size=32", "data.length=4", "data.test_length=4",
                   "generator=unet"])
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(cfg.to_yaml())
    rows, _ = compute_baselines([load_run(run)])
    got = {r["name"]: r["metrics"] for r in rows}
    assert got["identity"]["l1"] == pytest.approx(got["identity"]["l1_identity"], abs=1e-6)
    assert set(got) == {"identity", "constant mean"} and got["constant mean"]["l1"] > 0


def test_unavailable_data_is_a_note_not_an_error(tmp_path):
    from emkit.report.compare import write_report

    fake_run(tmp_path, "r0", "random", 0, 0.1)
    report = write_report([tmp_path / "r0"], tmp_path / "rep")
    assert "baselines for" in report.read_text() and "unavailable" in report.read_text()
    assert list(csv.DictReader(open(tmp_path / "rep" / "paired.csv"))) == []
