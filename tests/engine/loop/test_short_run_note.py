"""The short-run note: said once at the start of a run too short to learn."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from PIL import Image

from emkit.engine.loop.data_settings import MIN_LEARNING_STEPS, short_run_note


def test_note_below_the_threshold_only():
    note = short_run_note(30, 6, 5)
    assert note is not None and "only 30 optimiser steps" in note and "5 epoch(s) x 6" in note and "100" in note
    assert "\n" not in note
    assert short_run_note(MIN_LEARNING_STEPS, 50, 2) is None
    assert short_run_note(MIN_LEARNING_STEPS - 1, 99, 1) is not None


def test_tiny_run_says_so_once_and_writes_labelled_samples(tmp_path):
    """End to end (8 steps): the note, plain progress lines off a terminal, a labelled grid."""
    args = ["pretext=pix2pix", "generator=unet", "generator.blocks=2", "generator.width=4", "pretext.crop=32",
            "pretext.d_width=8", "data=synthetic-cem", "data.size=64", "data.length=16", "data.val_length=4",
            "data.test_length=4", "train.batch_size=4", "train.log_every=1", "train.device=cpu", "train.epochs=2",
            "train.steps_per_epoch=null"]  # one pass: 4 steps per epoch
    env = {**os.environ, "OMP_NUM_THREADS": "1", "EMKIT_PROGRESS_INTERVAL": "0"}
    proc = subprocess.run([sys.executable, "-m", "emkit", "run", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert proc.stdout.count("only 8 optimiser steps") == 1
    lines = [line for line in proc.stdout.splitlines() if " step " in line and "/8" in line]
    assert len(lines) == 8 and "\r" not in proc.stdout  # interval 0: every update, no redraws
    assert "epoch 1/2 step 1/8" in lines[0] and "eta" in lines[0] and "done in" in lines[-1]
    run = next((tmp_path / "runs").iterdir())
    im = Image.open(run / "samples" / "epoch_002.png")
    assert json.loads(im.text["emkit:columns"]) == ["degraded", "restored", "clean", "|error| x4"]
    assert json.loads(im.text["emkit:rows"]) == [f"synthetic-cem/val/{i}" for i in range(4)]
