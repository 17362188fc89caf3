"""A real ``emkit run task=atom-localization`` through the installed entry point."""

from __future__ import annotations

import csv
import os
import subprocess
import sys


def test_cli_run_writes_detection_metrics(tmp_path):
    args = ["task=atom-localization", "data=synthetic-stem", "data.size=64", "data.length=8", "data.val_length=2",
            "generator=unet", "generator.blocks=2", "generator.width=4", "task.crop=32", "train.epochs=1",
            "train.batch_size=4", "train.device=cpu", "name=smoke"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "emkit", "run", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-2000:]
    run = tmp_path / "runs" / "smoke"
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    epoch = [r for r in rows if r["kind"] == "epoch"][-1]
    for key in ("val_precision", "val_recall", "val_f1", "val_loc_error"):
        assert 0 <= float(epoch[key]) <= (2.0 if key == "val_loc_error" else 1.0), key
    assert (run / "samples" / "epoch_001.png").exists() and (run / "generator.safetensors").exists()
