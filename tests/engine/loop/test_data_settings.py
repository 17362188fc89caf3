"""Settings the data decides are adjusted with one warning line and recorded in config.yaml."""

from __future__ import annotations

import os
import subprocess
import sys

import torch
import yaml

from emkit.config import resolve
from emkit.engine.loop import data_settings as honour

PRETEXT = ["pretext=pix2pix", "generator=unet", "data=synthetic-cem"]
TINY = [
    "pretext=pix2pix", "generator=unet", "generator.blocks=2", "generator.width=4", "pretext.d_width=8",
    "data=synthetic-cem", "data.size=64", "data.length=16", "data.val_length=4", "data.test_length=4",
    "train.batch_size=4", "train.log_every=1", "train.device=cpu", "train.epochs=1",
]


class Images:
    def __init__(self, side: int) -> None:
        self.side = side

    def __getitem__(self, i):
        return {"image": torch.zeros(1, self.side, self.side + 10, dtype=torch.uint8)}


def test_steps_per_epoch_beyond_one_pass_is_kept_the_sampler_repeats(tmp_path):
    cfg = resolve([*PRETEXT, "train.steps_per_epoch=8"])
    said = []
    steps = honour.settle_with_data(cfg, Images(256), per_pass=4, run_dir=None, say=said.append)
    assert steps == 8 and cfg.train.steps_per_epoch == 8 and said == []
    cfg = resolve([*PRETEXT, "train.steps_per_epoch=3"])
    assert honour.steps_per_epoch(cfg, 4, said.append) == 3
    cfg = resolve([*PRETEXT, "train.steps_per_epoch=null"])
    assert honour.steps_per_epoch(cfg, 4, said.append) == 4


def test_crop_larger_than_the_images_is_lowered_with_one_warning(tmp_path):
    cfg = resolve(["task=segmentation", "generator=unet", "data=synthetic-hrtem", "task.crop=448"])
    said = []
    honour.crops(cfg, honour.image_side(Images(128)), said.append)
    assert cfg.plugin_config("task").crop == 128
    assert said == ["task.crop=448 is larger than the training images (128 px); using 128"]


def test_the_run_records_what_it_did(tmp_path):
    """A real run: steps_per_epoch=6 on 4 batches (kept: the split repeats) and crop 128 on 64-px images."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "emkit", "run", *TINY, "train.steps_per_epoch=6",
                           "pretext.crop=128", "name=honest"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert not any("steps_per_epoch" in w for w in warnings), proc.stderr
    assert any("pretext.crop=128" in w and "using 64" in w for w in warnings), proc.stderr
    saved = yaml.safe_load((tmp_path / "runs" / "honest" / "config.yaml").read_text())
    assert saved["train"]["steps_per_epoch"] == 6 and saved["pretext"]["crop"] == 64
    assert saved["train"]["lr"] == saved["pretext"]["lr"] == 2e-4
