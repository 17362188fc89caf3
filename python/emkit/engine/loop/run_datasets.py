"""The datasets of a run: built from its config, checked against what the objective needs."""

from __future__ import annotations

from typing import Any

from emkit.config import ResolvedConfig
from emkit.errors import DataError, EmkitError
from emkit.interfaces import DataSource
from emkit.data.build import build_dataset
from emkit.plugin_api import Objective


def run_dataset(cfg: ResolvedConfig, split: str, target: str | None) -> DataSource:
    """Split ``split`` of the run's dataset, serving ``target`` (the objective's ``dataset_target``)."""
    name = cfg.plugin_name("data")
    if name is None:
        raise EmkitError("No dataset chosen; add data=<name> (see `emkit plugins list`)")
    return build_dataset(name, cfg.plugin_config("data"), split, target)


def check_data(ds: Any, objective: Objective, split: str, cfg: ResolvedConfig) -> None:
    """Refuse an empty split or one whose samples lack a key the objective ``requires``."""
    if len(ds) == 0:
        raise DataError(f"Dataset {cfg.plugin_name('data')!r} has no samples in its {split} split")
    needed = [k for k in getattr(objective, "requires", ("image",)) if k != "image"]
    provides = set(getattr(ds, "provides", ()))
    missing = [k for k in needed if k not in provides]
    if missing:
        raise DataError(
            f"Dataset {cfg.plugin_name('data')!r} provides {sorted(provides) or 'images only'} "
            f"but the objective needs {missing}"
        )
