"""Where the pretext stage of an ``init=self`` run lives (shared by the generator init and
``engine/self_pretrain.py`` without importing the trainer)."""

from __future__ import annotations

from pathlib import Path

from emkit.config import ResolvedConfig
from emkit.errors import ConfigError

#: Sub-folder of the run directory that holds the pretext stage.
PRETRAIN_DIR = "pretrain"


def stage_dir(cfg: ResolvedConfig) -> Path:
    """The pretext stage folder of an ``init=self`` run (its config names the run folder)."""
    if not cfg.run.name:
        raise ConfigError("init=self: the run has no name yet, so its pretrain/ folder is unknown")
    return Path(cfg.run.runs_dir) / cfg.run.name / PRETRAIN_DIR
