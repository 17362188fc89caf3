"""SIGTERM: the run finishes the current step, checkpoints, and writes nothing after that.

The signal is sent by the run itself at a known step (``fault_callbacks.TermAtStep``, the
same handler a scheduler's SIGTERM reaches), so the stop step is exact rather than
whatever step a polling test happened to see. The order of writes comes from Python's
audit hooks (``fault_callbacks.WriteLog``), not from file timestamps, which can be equal.
"""

from __future__ import annotations

import json
import re

from emkit.engine.runs.metrics_log import read_metrics
from fault_callbacks import run_driver

STOP_AT = 3
TINY = [
    "pretext=pix2pix", "generator=unet", "generator.blocks=2", "generator.width=4", "pretext.crop=32",
    "pretext.d_width=8", "data=synthetic-cem", "data.size=64", "data.length=16", "data.val_length=4",
    "train.batch_size=4", "train.log_every=1", "train.device=cpu", "train.epochs=50", "name=stopped",
]


def test_sigterm_stops_writing_after_the_stop_checkpoint(tmp_path):
    log = tmp_path / "writes.jsonl"
    proc = run_driver(TINY, tmp_path, term_at=STOP_AT, write_log=(tmp_path / "runs", log), timeout=600)
    assert proc.returncode == 2, proc.stderr
    match = re.search(r"interrupted at step (\d+); checkpoint saved", proc.stderr)
    assert match, proc.stderr
    assert int(match.group(1)) == STOP_AT  # the step the signal arrived in was finished, no other

    run = tmp_path / "runs" / "stopped"
    pointer = run / "checkpoints" / "latest.json"
    assert json.loads(pointer.read_text())["step"] == STOP_AT
    assert max(int(r["step"]) for r in read_metrics(run / "metrics.csv") if r["kind"] == "step") == STOP_AT
    assert not [p for p in run.rglob("*") if p.name.endswith(".tmp")]
    assert not (run / "generator.safetensors").exists()

    events = [tuple(json.loads(line)) for line in log.read_text().splitlines()]
    renames = [path for kind, path in events if kind == "rename"]
    stem = f"stopped/checkpoints/ckpt-{STOP_AT:08d}"
    # the stop checkpoint: weights, then optimiser state, then the pointer to both ...
    assert renames[-3:] == [f"{stem}.safetensors", f"{stem}.state.pt", "stopped/checkpoints/latest.json"]
    # ... and the pointer is the last file the process wrote, renamed or removed
    assert events[-1] == ("rename", "stopped/checkpoints/latest.json"), events[-5:]
    assert ("rename", "stopped/metrics.csv") in events  # the log sees the run's other writes too
