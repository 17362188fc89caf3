"""``init=self``: pretrain on the task's own training images, then fine-tune, in one run.

``emkit run task=segmentation data=... init=self`` runs two stages in one run directory::

    runs/<name>/config.yaml           the command as given (init: self, pretrain: {...})
    runs/<name>/pretrain/             stage 1: a complete pretext run (pix2pix by default)
    runs/<name>/metrics.csv, ...      stage 2: fine-tuning, initialised from pretrain/

Stage 1 trains the pretext on ``data=mix`` whose first source is the task's dataset with
its options, pinned to its train split (labels are never read, val/test items never
seen; its validation curve is therefore a fit monitor on training images), plus the
extra unlabeled sources of ``pretrain.data``, weighted by
``pretrain.weights``. Its step budget is ``pretrain.steps``, by default
:func:`default_steps` (about 20 passes over the pooled images, within [200, 1000]).

Resuming (``emkit run resume=runs/<name>``, or ``emkit sweep`` after a kill) looks at the
stages in order: a finished stage (its ``generator.safetensors`` exists) is skipped, a
stage with a checkpoint is resumed, a stage that died before its first checkpoint starts
again.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import sys
from pathlib import Path
from typing import Any, Sequence

from emkit.config import ResolvedConfig, resolve
from emkit.config.schema import PretrainConfig

from emkit.engine.runs.run_dir import PRETRAIN_DIR
from emkit.engine.runtime.stop import TrainingInterrupted
from emkit.errors import ConfigError

#: Default budget: passes over the pooled images, and the bounds of the step count.
DEFAULT_PASSES = 20
MIN_STEPS, MAX_STEPS = 200, 1000
#: Validation samples of the stage: the task's training images (a fit monitor; val/test
#: items are never read) and the extra sources' validation items.
VAL_SAMPLES = 32
#: Checkpoints per pretext stage (the resume granularity after a kill).
STAGE_CHECKPOINTS = 4
#: Train settings the pretext stage takes over from the run (where and how it computes).
INHERITED_TRAIN_KEYS = ("device", "precision", "compile", "channels_last", "num_workers", "log_every",
                        "deterministic")


def wanted(cfg: ResolvedConfig) -> bool:
    """True for ``init=self``; warns about ``pretrain.*`` settings another init ignores.

    (A warning, not an error: ``emkit sweep init=random,self pretrain.steps=300`` gives the
    same keys to every run.)
    """
    if cfg.run.init != "self":
        if cfg.run.pretrain != PretrainConfig():
            print(f"warning: pretrain.* is ignored with init={cfg.run.init!r} (it applies to init=self only)",
                  file=sys.stderr, flush=True)
        return False
    if cfg.plugin_name("task") is None:
        raise ConfigError("init=self pretrains a generator for a task: choose task=<name> (not a pretext)")
    if cfg.run.launcher == "torchrun" or cfg.run.devices > 1:
        raise ConfigError("init=self runs on one device; for several, run the pretext stage yourself "
                          "(emkit run pretext=pix2pix data=...) and fine-tune with init=<that run>")
    return True


def has_progress(run_dir: Path) -> bool:
    """Whether an ``init=self`` run directory holds work worth resuming (for ``emkit sweep``)."""
    return _has_checkpoint(run_dir) or (run_dir / PRETRAIN_DIR / "config.yaml").exists()


def _has_checkpoint(run_dir: Path) -> bool:
    return (run_dir / "checkpoints" / "latest.json").exists()


def default_steps(images: int, batch_size: int) -> int:
    """About ``DEFAULT_PASSES`` passes over ``images``, within [MIN_STEPS, MAX_STEPS]."""
    return min(MAX_STEPS, max(MIN_STEPS, math.ceil(DEFAULT_PASSES * images / max(batch_size, 1))))


def task_source(cfg: ResolvedConfig) -> dict[str, Any]:
    """The task's dataset as a mix source pinned to its train split."""
    data = dict(cfg.tree.get("data") or {})
    if not data.get("name"):
        raise ConfigError("init=self pretrains on the task's data: choose data=<name>")
    return {**data, "split": "train"}


def mix_section(cfg: ResolvedConfig) -> dict[str, Any]:
    """The ``data`` section of the pretext stage (without its length)."""
    p = cfg.run.pretrain
    sources = [task_source(cfg), *p.data]
    if p.weights and len(p.weights) != len(sources):
        raise ConfigError(f"pretrain.weights has {len(p.weights)} values for {len(sources)} sources "
                          "(the task's images first, then each pretrain.data source)")
    return {"name": "mix", "sources": sources, "weights": list(p.weights), "val_length": VAL_SAMPLES,
            "test_length": 0}


def _pooled_images(mix: dict[str, Any]) -> int:
    from emkit.data.build import build_dataset

    return len(build_dataset("mix", {k: v for k, v in mix.items() if k != "name"}, "train"))


def pretext_section(cfg: ResolvedConfig) -> dict[str, Any]:
    """``pretrain.pretext`` as a section; its crop defaults to the task's crop when both have one."""
    from emkit import registry
    from emkit.config.coerce import field_types

    chosen = cfg.run.pretrain.pretext
    section = {"name": chosen} if isinstance(chosen, str) else {"name": "pix2pix", **chosen}
    fields = field_types(registry.load("pretext", section["name"]).Config)
    task_crop = (cfg.tree.get("task") or {}).get("crop")
    if "crop" in fields and "crop" not in section and isinstance(task_crop, int):
        section["crop"] = task_crop
    return section


def pretext_config(cfg: ResolvedConfig, run_dir: Path) -> ResolvedConfig:
    """The resolved configuration of the pretext stage of ``cfg`` (run in ``run_dir/pretrain``)."""
    p = cfg.run.pretrain
    generator = dict(cfg.tree["generator"])
    if "in_channels" in generator and "out_channels" in generator:
        generator["out_channels"] = generator["in_channels"]  # a restoration generator
    base: dict[str, Any] = {
        "name": PRETRAIN_DIR, "runs_dir": str(run_dir), "seed": cfg.run.seed, "logger": cfg.run.logger,
        "pretext": pretext_section(cfg),
        "generator": generator,
        "data": mix_section(cfg),
        "train": {k: cfg.tree["train"][k] for k in INHERITED_TRAIN_KEYS if k in cfg.tree["train"]},
    }
    first = resolve(base=base)
    crop = getattr(first.plugin_config("pretext"), "crop", None)
    if isinstance(crop, int):  # samples a little larger than the crop leave room to rotate
        base["data"]["size"] = crop + crop // 4
    batch = first.train.batch_size
    steps = p.steps if p.steps is not None else default_steps(_pooled_images(base["data"]), batch)
    base["data"]["length"] = steps * batch
    base["train"].update(epochs=1, steps_per_epoch=steps, checkpoint_every=max(1, math.ceil(steps / STAGE_CHECKPOINTS)))
    return resolve(base=base)


def run_pretext_stage(cfg: ResolvedConfig, run_dir: Path, *, show_progress: bool = True,
                      callbacks: Sequence[Any] = ()) -> Path:
    """Stage 1: skip it when finished, resume it from its checkpoint, else (re)start it."""
    from emkit.engine.loop.trainer import train
    from emkit.engine.runs.weights import WEIGHTS

    stage = run_dir / PRETRAIN_DIR
    if (stage / WEIGHTS).exists():
        print(f"init=self: pretext stage already finished: {stage}", flush=True)
        return stage
    pcfg = pretext_config(cfg, run_dir)
    if _has_checkpoint(stage):
        print(f"init=self: resuming the pretext stage in {stage}", flush=True)
        return train(pcfg, resume_dir=stage, show_progress=show_progress, callbacks=callbacks)
    if stage.exists():
        shutil.rmtree(stage)  # died before its first checkpoint: nothing to keep
    print(f"init=self: pretext stage ({pcfg.plugin_name('pretext')}, {pcfg.train.steps_per_epoch} steps "
          f"on {len(pcfg.plugin_config('data').sources)} source(s)) in {stage}", flush=True)
    out = train(pcfg, show_progress=show_progress, callbacks=callbacks)
    if out != stage:
        raise ConfigError(f"init=self: the pretext stage was written to {out}, expected {stage}")
    return stage


def train_with_self_init(cfg: ResolvedConfig, resume_dir: str | Path | None = None, *,
                         show_progress: bool = True, callbacks: Sequence[Any] = ()) -> Path:
    """Both stages of ``init=self`` in one run directory; return it (``callbacks`` see both)."""
    from emkit.engine.runs import run_dir as run_dirs
    from emkit.engine.loop.trainer import train

    out = Path(resume_dir) if resume_dir is not None else run_dirs.create(cfg)
    try:
        stage = run_pretext_stage(cfg, out, show_progress=show_progress, callbacks=callbacks)
    except TrainingInterrupted as stopped:  # resuming the whole run continues its pretext stage
        raise TrainingInterrupted(f"{str(stopped).split(';')[0]} (the pretext stage of init=self); checkpoint "
                                  f"saved. Continue with: emkit run resume={out}", out) from None
    if not _has_checkpoint(out):
        # fine-tuning never checkpointed: drop what a killed first attempt logged
        (out / "metrics.csv").unlink(missing_ok=True)
    # init stays "self" (the record); the run's folder name locates the pretext stage
    fine = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, name=out.name, runs_dir=str(out.parent)))
    print(f"init=self: fine-tuning {cfg.plugin_name('task')} from {stage}", flush=True)
    return train(fine, resume_dir=out, show_progress=show_progress, callbacks=callbacks)
