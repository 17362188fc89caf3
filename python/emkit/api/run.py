"""``Run``: a run folder as a program sees it -- its config, metrics and weights.

Returned by ``emkit.train``/``emkit.sweep`` and opened from any run folder with
``Run.open(path)``; it reads what the engine wrote (config.yaml, metrics.csv, the
exported generator, the keep_best copy, the ``init=self`` stage) and never changes it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

import yaml

from emkit.engine.runs.keep_best import BEST_DIR
from emkit.engine.runs.metrics_log import read_metrics
from emkit.engine.runs.run_dir import CONFIG_FILE, PRETRAIN_DIR
from emkit.engine.runs.weights import WEIGHTS
from emkit.errors import EmkitError


def _number(text: Any) -> Any:
    """metrics.csv cells as numbers where they are numbers (``ops`` and ``kind`` stay text)."""
    if not isinstance(text, str) or text == "":
        return None if text == "" else text
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


@dataclasses.dataclass
class Run:
    """A run folder: ``path``, the ``config`` that actually ran, ``metrics`` rows, weights.

    ``stopped`` is True when a callback (or Ctrl-C / SIGTERM) stopped the run, and
    ``stop_reason`` says at which step; it keeps its last checkpoint and
    ``emkit.train(resume=run.path)`` continues it.
    """

    path: Path
    config: dict[str, Any]
    stopped: bool = False
    stop_reason: Optional[str] = None

    @classmethod
    def open(cls, path: str | Path, *, stopped: bool = False, stop_reason: Optional[str] = None) -> "Run":
        """The run in folder ``path`` (one error when it is not an emkit run folder)."""
        path = Path(path)
        saved = path / CONFIG_FILE
        if not saved.is_file():
            raise EmkitError(f"{path}: not an emkit run folder ({CONFIG_FILE} not found)")
        return cls(path, yaml.safe_load(saved.read_text()) or {}, stopped, stop_reason)

    def __fspath__(self) -> str:
        """A ``Run`` is usable wherever a path is (``emkit.load(run)``, ``init=run``)."""
        return str(self.path)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def metrics(self) -> list[dict[str, Any]]:
        """Every metrics.csv row (``kind`` = step or epoch), values as numbers."""
        csv_path = self.path / "metrics.csv"
        if not csv_path.exists():
            return []
        return [{k: _number(v) for k, v in row.items()} for row in read_metrics(csv_path)]

    def epochs(self) -> list[dict[str, Any]]:
        """The per-epoch rows (validation ``val_*`` and test ``test_*`` metrics)."""
        return [row for row in self.metrics if row.get("kind") == "epoch"]

    def final(self, metric: str) -> Optional[float]:
        """The last logged value of ``metric`` (e.g. ``test_dice``), or None."""
        values = [row[metric] for row in self.epochs() if isinstance(row.get(metric), (int, float))]
        return values[-1] if values else None

    @property
    def weights(self) -> Optional[Path]:
        """The final exported generator (None until the run finished)."""
        path = self.path / WEIGHTS
        return path if path.exists() else None

    @property
    def best_weights(self) -> Optional[Path]:
        """The best-by-validation generator of ``train.keep_best`` (None without one)."""
        path = self.path / BEST_DIR / WEIGHTS
        return path if path.exists() else None

    @property
    def finished(self) -> bool:
        return self.weights is not None

    @property
    def pretrain(self) -> Optional["Run"]:
        """The pretext stage of an ``init=self`` run, as a ``Run`` (None otherwise)."""
        stage = self.path / PRETRAIN_DIR
        return Run.open(stage) if (stage / CONFIG_FILE).exists() else None

    def load(self, weights: str = "final", **options: Any) -> Any:
        """``emkit.load`` of this run (``weights="best"``: the keep_best copy)."""
        from emkit.api.model import load

        if weights not in ("final", "best"):
            raise EmkitError(f"weights={weights!r}: expected 'final' or 'best'")
        if weights == "best":
            if self.best_weights is None:
                raise EmkitError(f"{self.path}: no best weights (train with train.keep_best=<metric>)")
            return load(self.best_weights.parent, **options)
        return load(self.path, **options)

    def __repr__(self) -> str:
        state = "stopped" if self.stopped else ("finished" if self.finished else "unfinished")
        return f"Run({str(self.path)!r}, {state}, {len(self.epochs())} epoch row(s))"
