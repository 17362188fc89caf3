"""From CLI arguments to a training run: resume/init handling and the torchrun relaunch.

* ``resume=<run dir>``: the run's saved config.yaml is the base layer (later overrides,
  e.g. more epochs, still apply) and training continues in that directory; temp files a
  killed write left there are removed first.
* ``init=<run dir | weights>`` without an explicit generator: the saved generator's
  plugin name and config are used, so the architecture matches the weights.
* ``launcher=torchrun devices=N``: re-executes the same command under torchrun
  (``launch/torchrun.py``: several machines, elastic restarts).
* a worker restarted by torchrun's elastic agent continues its launch's run folder as
  ``resume=`` would (``engine/runtime/elastic.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence

from emkit.config import ResolvedConfig, RunConfig, resolve
from emkit.config.layering import UserLayers, read_layers
from emkit.config.overrides import load_yaml
from emkit.engine.runtime import distributed, elastic
from emkit.storage.atomic import remove_stale_temps

from emkit.errors import EmkitError, print_warning


def _resume_base(resume: Any) -> tuple[dict[str, Any], Path]:
    resume_dir = Path(str(resume))
    saved = resume_dir / "config.yaml"
    if not saved.exists():
        raise EmkitError(f"resume={resume}: {saved} not found (is it an emkit run directory?)")
    base = load_yaml(saved)
    base.pop("resume", None)
    stale = remove_stale_temps(resume_dir)
    if stale:
        print(f"note: removed {len(stale)} unfinished temp file(s) left by the killed run "
              f"(e.g. {stale[0].name})", file=sys.stderr, flush=True)
    return base, resume_dir


def prepare(overrides: list[str], config_files: list[str]) -> tuple[ResolvedConfig, Path | None]:
    """Resolve the config of ``emkit run`` (see module docstring); return it and the resume dir.

    Overrides and config files are read once; ``resume`` and ``init`` are looked up in
    what the user wrote (command line or config files) before the full resolution.
    """
    layers: UserLayers = read_layers(overrides, config_files)
    user = layers.merged()
    base: dict[str, Any] | None = None
    resume_dir: Path | None = None
    resume = user.get("resume") or elastic.restarted_run(user.get("runs_dir") or RunConfig.runs_dir)
    if resume:
        base, resume_dir = _resume_base(resume)
    init = user.get("init")
    if init not in (None, "random", "self") and "generator" not in user:
        from emkit.engine.runs.weights import read_spec, resolve_weights

        spec = read_spec(resolve_weights(str(init)))
        base = dict(base or {})
        base["generator"] = {"name": spec["name"], **spec["config"]}
    cfg = resolve(base=base, layers=layers)
    _settle_devices(cfg)
    if resume_dir is not None and not user.get("resume"):
        elastic.record_restart(cfg, resume_dir)
    return cfg, resume_dir


def _settle_devices(cfg: ResolvedConfig) -> None:
    """``devices=N`` without ``launcher=torchrun`` (and not under torchrun) trains on one
    device: say so and record ``devices: 1``."""
    if cfg.run.devices > 1 and cfg.run.launcher == "none" and not distributed.started_by_torchrun():
        cfg.warnings.append(f"devices={cfg.run.devices} needs launcher=torchrun to train on several "
                            "devices; training on one (add launcher=torchrun)")
        cfg.run.devices = 1
        cfg.refresh_tree()
    from emkit.engine.launch.torchrun import check_settings

    cfg.warnings += check_settings(cfg.run)


def relaunch_with_torchrun(cfg: ResolvedConfig, overrides: list[str], config_files: list[str]) -> int:
    """The same command under torchrun, on this machine or several (``launch/torchrun.py``)."""
    from emkit.engine.launch import torchrun

    return torchrun.relaunch(cfg.run, overrides, config_files)


def launch(overrides: list[str], config_files: list[str], *, callbacks: Sequence[Any] = (),
           show_progress: bool = True) -> Path | None:
    """Train as ``emkit run`` does; return the run directory (None after a torchrun relaunch).

    ``callbacks`` observe the run (``emkit.engine.loop.callbacks``; front ends such as the napari
    plugin use them for live curves and a cancel button); they run in this process only,
    so they are refused with ``launcher=torchrun``. ``show_progress`` False keeps the
    terminal progress bar off.
    """
    cfg, resume_dir = prepare(overrides, config_files)
    for line in cfg.warnings:
        print_warning(line)
    if cfg.plugin_name("pretext") is None and cfg.plugin_name("task") is None:
        from emkit import registry

        pretexts = ", ".join(registry.available("pretext")) or "none installed"
        tasks = ", ".join(registry.available("task")) or "none installed"
        raise EmkitError(
            "Nothing to train: choose a pretext (pretext=<name>; available: "
            f"{pretexts}) or a task (task=<name>; available: {tasks})"
        )
    from emkit.engine.launch import self_pretrain

    self_init = self_pretrain.wanted(cfg)  # init=self: a pretext stage, then fine-tuning
    if cfg.run.launcher == "torchrun" and not distributed.started_by_torchrun():
        if callbacks:
            raise EmkitError("launcher=torchrun relaunches training in new processes, where in-process "
                             "callbacks cannot follow it; train on one device here")
        code = relaunch_with_torchrun(cfg, overrides, config_files)
        if code:
            raise EmkitError(f"torchrun exited with status {code}")
        return None
    from emkit.engine.loop.trainer import train

    try:
        if self_init:
            return self_pretrain.train_with_self_init(cfg, resume_dir, show_progress=show_progress,
                                                      callbacks=callbacks)
        return train(cfg, resume_dir=resume_dir, show_progress=show_progress, callbacks=callbacks)
    finally:
        distributed.shutdown()
