"""A real ``emkit run task=atom-localization`` through the installed entry point."""

from __future__ import annotations

import csv

from emkit.testing.fixtures import run_emkit


def test_cli_run_writes_detection_metrics(tmp_path):
    args = ["task=atom-localization", "data=synthetic-stem", "data.size=64", "data.length=8", "data.val_length=2",
            "generator=unet", "generator.blocks=2", "generator.width=4", "task.crop=32", "train.epochs=1",
            "train.batch_size=4", "train.device=cpu", "task.tolerance=1.5", "name=smoke"]
    run_emkit("run", *args, cwd=tmp_path, check=True)
    run = tmp_path / "runs" / "smoke"
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    epoch = [r for r in rows if r["kind"] == "epoch"][-1]
    for key in ("val_precision", "val_recall", "val_f1", "val_loc_error"):
        assert 0 <= float(epoch[key]) <= (1.5 if key == "val_loc_error" else 1.0), key  # at most the tolerance
    assert (run / "samples" / "epoch_001.png").exists() and (run / "generator.safetensors").exists()
