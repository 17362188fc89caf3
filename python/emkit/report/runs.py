"""Read a finished (or partial) run directory into a ``RunSummary``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from emkit.engine.metrics_log import read_metrics
from emkit.errors import EmkitError


@dataclasses.dataclass
class RunSummary:
    path: Path
    config: dict[str, Any]
    #: epoch -> {metric column: value} from the per-epoch rows of metrics.csv
    epochs: dict[int, dict[str, float]]
    finished: bool

    @property
    def objective(self) -> str:
        task = (self.config.get("task") or {}).get("name")
        pretext = (self.config.get("pretext") or {}).get("name")
        return task or pretext or "?"

    @property
    def init(self) -> str:
        """"P" (pretrained), "R" (random), as in the paper's tables, or "self" (init=self)."""
        init = self.config.get("init", "random")
        if init == "self":
            return "self"
        return "R" if init in (None, "", "random") else "P"

    @property
    def seed(self) -> int:
        return int(self.config.get("seed", 0))

    @property
    def generator(self) -> dict[str, Any]:
        return dict(self.config.get("generator") or {})


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def load_run(path: str | Path) -> RunSummary:
    path = Path(path)
    cfg_file = path / "config.yaml"
    if not cfg_file.exists():
        raise EmkitError(f"{path} is not an emkit run directory (no config.yaml)")
    config = yaml.safe_load(cfg_file.read_text()) or {}
    epochs: dict[int, dict[str, float]] = {}
    metrics_file = path / "metrics.csv"
    if metrics_file.exists():
        for row in read_metrics(metrics_file):
            if row.get("kind") != "epoch":
                continue
            values = {k: v for k, v in ((k, _number(v)) for k, v in row.items() if k not in ("kind",)) if v is not None}
            epochs[int(float(row["epoch"]))] = values
    return RunSummary(path=path, config=config, epochs=epochs, finished=(path / "generator.safetensors").exists())
