"""Settings the data decides: adjusted with one warning line and recorded as used.

Some settings can only be judged once the dataset exists. Each rule here either keeps the
setting or changes it to what the run will actually do, says so in one warning line, and
writes the value into the config so the saved config.yaml is the record of what ran:

* ``train.steps_per_epoch`` may exceed one pass over the training split: the sampler
  then repeats the reshuffled split (``steps_per_epoch`` keeps it; unset = one pass);
* a ``crop`` (pretext or task) larger than the training images is lowered to the image
  side (the warp would otherwise sample outside the image and the run equals the smaller
  crop anyway).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from emkit.config import ResolvedConfig
from emkit.errors import print_warning

Say = Callable[[str], None]

#: Plugin sections whose ``crop`` field sizes the training crops.
CROP_SECTIONS = ("pretext", "task")


def _silent(message: str) -> None:
    pass


def steps_per_epoch(cfg: ResolvedConfig, per_pass: int, say: Say = print_warning) -> int:
    """Steps one epoch runs: ``train.steps_per_epoch``, or one pass (``per_pass``) when unset.

    More than one pass is honoured (the trainer's sampler repeats the reshuffled split,
    ``ResumableDistributedSampler.passes``), so nothing is changed or warned about.
    """
    return cfg.train.steps_per_epoch or per_pass


def image_side(dataset: Any) -> int | None:
    """The smaller side of the first training image, or None when it cannot be read."""
    try:
        sample = dataset[0]
    except Exception:  # noqa: BLE001 - the dataset reports its own errors when training reads it
        return None
    image = sample.get("image") if isinstance(sample, dict) else None
    shape = getattr(image, "shape", None)
    if shape is None or len(shape) < 2:
        return None
    return int(min(shape[-2:]))


def crops(cfg: ResolvedConfig, side: int | None, say: Say = print_warning) -> None:
    """Lower a pretext/task ``crop`` larger than the images to the image side."""
    if side is None:
        return
    for section in CROP_SECTIONS:
        if section not in cfg.plugins:
            continue
        plugin_cfg = cfg.plugin_config(section)
        crop = getattr(plugin_cfg, "crop", None)
        if isinstance(crop, int) and crop > side:
            say(f"{section}.crop={crop} is larger than the training images ({side} px); using {side}")
            plugin_cfg.crop = side


def settle_with_data(cfg: ResolvedConfig, train_ds: Any, per_pass: int, run_dir: str | Path | None,
                     say: Say = print_warning) -> int:
    """Apply the rules above; rewrite ``run_dir``/config.yaml if anything changed.

    Returns the number of steps per epoch the loop runs. ``run_dir=None`` (the other
    ranks of a DDP run) applies the same rules silently.
    """
    if run_dir is None:
        say = _silent
    before = cfg.to_yaml()
    steps = steps_per_epoch(cfg, per_pass, say)
    crops(cfg, image_side(train_ds), say)
    cfg.refresh_tree()
    if run_dir is not None and cfg.to_yaml() != before:
        from emkit.engine.run_dir import save_config

        save_config(run_dir, cfg)
    return steps
