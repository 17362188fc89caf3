"""SIGTERM: the run finishes the current step, checkpoints, and writes nothing after that."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

from emkit.engine.runs.metrics_log import read_metrics

TINY = [
    "pretext=pix2pix", "generator=unet", "generator.blocks=2", "generator.width=4", "pretext.crop=32",
    "pretext.d_width=8", "data=synthetic-cem", "data.size=64", "data.length=16", "data.val_length=4",
    "train.batch_size=4", "train.log_every=1", "train.device=cpu", "train.epochs=50", "name=stopped",
]


def test_sigterm_stops_writing_after_the_stop_checkpoint(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "emkit", "run", *TINY], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run = tmp_path / "runs" / "stopped"
    deadline = time.monotonic() + 240
    seen = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if (run / "metrics.csv").exists():
            seen = max([int(r["step"]) for r in read_metrics(run / "metrics.csv") if r["kind"] == "step"] or [0])
            if seen >= 2:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 2, err
    match = re.search(r"interrupted at step (\d+); checkpoint saved", err)
    assert match, err
    stopped_at = int(match.group(1))
    assert seen <= stopped_at < 50 * 4
    pointer = run / "checkpoints" / "latest.json"
    assert json.loads(pointer.read_text())["step"] == stopped_at
    steps = [int(r["step"]) for r in read_metrics(run / "metrics.csv") if r["kind"] == "step"]
    assert max(steps) == stopped_at
    files = [p for p in run.rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.endswith(".tmp")]
    assert not (run / "generator.safetensors").exists()
    # the checkpoint pointer is the last thing written
    assert max(p.stat().st_mtime_ns for p in files) == pointer.stat().st_mtime_ns
