"""Run directories: ``runs/<timestamp>-<pretext|task>-<generator>/`` and their config.

A run name is one folder name inside ``runs_dir``: no path separators, no ``..``, not
absolute, so a run never writes outside ``runs_dir``. Creation is atomic: the folder is
made with an exclusive ``mkdir`` and, when the name is taken (another run, or a second
process started at the same second), the next free ``<name>-2``, ``<name>-3``, ... is
claimed the same way, so two processes never share a folder.

An ``init=self`` run keeps its pretext stage in ``<run>/pretrain/`` (``stage_dir``).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from pathlib import Path

from emkit.config import ResolvedConfig
from emkit.config.names import check_name
from emkit.storage.atomic import write_text_atomic
from emkit.errors import ConfigError, EmkitError
from emkit.storage.oserrors import storage_operation

CONFIG_FILE = "config.yaml"
SUBFOLDERS = ("checkpoints", "samples")
MAX_TRIES = 1000
#: Sub-folder of an ``init=self`` run directory that holds its pretext stage.
PRETRAIN_DIR = "pretrain"


def default_name(cfg: ResolvedConfig) -> str:
    objective = cfg.plugin_name("pretext") or cfg.plugin_name("task") or "run"
    generator = cfg.plugin_name("generator") or "generator"
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{stamp}-{objective}-{generator}")


def claim(base: Path, name: str) -> Path:
    """Create ``base/name`` (or the first free ``name-N``) with an exclusive mkdir."""
    with storage_operation("create runs folder", base):
        base.mkdir(parents=True, exist_ok=True)
    for suffix in range(1, MAX_TRIES + 1):
        path = base / (name if suffix == 1 else f"{name}-{suffix}")
        try:
            with storage_operation("create run folder", path):
                path.mkdir()
        except EmkitError as exc:
            if isinstance(exc.__cause__, FileExistsError):
                continue
            raise
        return path
    raise EmkitError(f"No free run folder name {name!r}-N in {base} after {MAX_TRIES} tries")


def create(cfg: ResolvedConfig) -> Path:
    """Create a fresh run directory (never reusing an existing one) and save config.yaml."""
    base = Path(cfg.run.runs_dir)
    name = check_name(cfg.run.name) if cfg.run.name is not None else default_name(cfg)
    path = claim(base, name)
    for sub in SUBFOLDERS:
        with storage_operation("create folder", path / sub):
            (path / sub).mkdir(exist_ok=True)
    save_config(path, cfg)
    return path


def save_config(path: str | Path, cfg: ResolvedConfig) -> None:
    """Write (or rewrite, after a setting was adjusted) the run's config.yaml."""
    write_text_atomic(Path(path) / CONFIG_FILE, cfg.to_yaml(), create_parents=False)


def record_train_settings(path: str | Path, values: dict) -> None:
    """Write ``train`` values resolved at start-up (``auto`` choices) into an existing run's
    config.yaml, leaving every other line as saved.

    A fresh run's config.yaml already holds them (it is saved after they are settled); this
    is for the folders a run continues in -- ``resume=``, and ``init=self``'s fine-tuning
    stage, whose folder is created before its settings are resolved.
    """
    import yaml

    file = Path(path) / CONFIG_FILE
    tree = yaml.safe_load(file.read_text()) or {}
    train = tree.setdefault("train", {})
    if all(train.get(key) == value for key, value in values.items()):
        return
    train.update(values)
    write_text_atomic(file, yaml.safe_dump(tree, sort_keys=False), create_parents=False)


def stage_dir(cfg: ResolvedConfig) -> Path:
    """The pretext stage folder of an ``init=self`` run (its config names the run folder)."""
    if not cfg.run.name:
        raise ConfigError("init=self: the run has no name yet, so its pretrain/ folder is unknown")
    return Path(cfg.run.runs_dir) / cfg.run.name / PRETRAIN_DIR
