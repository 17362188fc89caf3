"""The run config's ``ops`` key selects the degradation-op implementation and metrics record it."""

from __future__ import annotations

import os
import subprocess
import sys

from emkit.engine.runs.metrics_log import read_metrics

TINY = [
    "pretext=pix2pix", "generator=unet", "generator.blocks=2", "generator.width=4",
    "pretext.crop=32", "pretext.d_width=8",
    "data=synthetic-cem", "data.size=64", "data.length=8", "data.val_length=4", "data.test_length=4",
    "train.batch_size=4", "train.device=cpu", "train.epochs=1", "train.steps_per_epoch=1",
]


def test_ops_key_is_honoured_and_recorded(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "EMKIT_OPS": "native"}  # the config key wins
    proc = subprocess.run([sys.executable, "-m", "emkit", "run", *TINY, "ops=reference", "name=r",
                           f"runs_dir={tmp_path}"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    epochs = [r for r in read_metrics(tmp_path / "r" / "metrics.csv") if r["kind"] == "epoch"]
    assert epochs and epochs[-1]["ops"] == "cpu=reference"
    assert "ops: reference" in (tmp_path / "r" / "config.yaml").read_text()
