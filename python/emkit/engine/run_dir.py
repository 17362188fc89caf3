"""Run directories: ``runs/<timestamp>-<pretext|task>-<generator>/`` and their config."""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

from emkit.config import ResolvedConfig
from emkit.engine.atomic import write_text_atomic

CONFIG_FILE = "config.yaml"


def default_name(cfg: ResolvedConfig) -> str:
    objective = cfg.plugin_name("pretext") or cfg.plugin_name("task") or "run"
    generator = cfg.plugin_name("generator") or "generator"
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{stamp}-{objective}-{generator}")


def create(cfg: ResolvedConfig) -> Path:
    """Create a fresh run directory (never reusing an existing one) and save config.yaml."""
    base = Path(cfg.run.runs_dir)
    name = cfg.run.name or default_name(cfg)
    path = base / name
    suffix = 1
    while path.exists() and any(path.iterdir()):
        suffix += 1
        path = base / f"{name}-{suffix}"
    path.mkdir(parents=True, exist_ok=True)
    for sub in ("checkpoints", "samples"):
        (path / sub).mkdir(exist_ok=True)
    write_text_atomic(path / CONFIG_FILE, cfg.to_yaml())
    return path
