"""Run metrics: ``metrics.csv`` (one row per logged step and per epoch), optional TensorBoard.

The CSV is rewritten whole when a new column appears (files are small), and on resume
rows after the restored step are dropped, so the log matches an uninterrupted run.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from emkit.storage.atomic import write_atomic

FIXED = ["kind", "epoch", "step"]


class MetricsLog:
    def __init__(self, path: str | Path, *, tensorboard_dir: str | Path | None = None) -> None:
        self.path = Path(path)
        self.rows: list[dict[str, Any]] = []
        self.columns: list[str] = list(FIXED)
        if self.path.exists():
            with open(self.path, newline="") as fh:
                reader = csv.DictReader(fh)
                self.columns = list(reader.fieldnames or FIXED)
                self.rows = [dict(r) for r in reader]
        self._tb = None
        if tensorboard_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as exc:
                from emkit.errors import EmkitError

                raise EmkitError("logger=tensorboard needs the tensorboard package: pip install 'emkit[tensorboard]'") from exc
            self._tb = SummaryWriter(str(tensorboard_dir))

    def truncate_after(self, step: int) -> None:
        """Drop rows logged after ``step`` (they belong to work lost in a kill)."""
        self.rows = [r for r in self.rows if int(float(r.get("step") or 0)) <= step]
        self._flush()

    def log(self, kind: str, epoch: int, step: int, values: dict[str, float]) -> None:
        row: dict[str, Any] = {"kind": kind, "epoch": epoch, "step": step}
        for key, value in values.items():
            row[key] = f"{value:.6g}" if isinstance(value, float) and math.isfinite(value) else value
            if key not in self.columns:
                self.columns.append(key)
            if self._tb is not None and isinstance(value, (int, float)):
                self._tb.add_scalar(f"{kind}/{key}", value, step)
        self.rows.append(row)
        self._flush()

    def _flush(self) -> None:
        def write(p: Path) -> None:
            with open(p, "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=self.columns, extrasaction="ignore")
                writer.writeheader()
                writer.writerows(self.rows)

        write_atomic(self.path, write)
        if self._tb is not None:
            self._tb.flush()

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def read_metrics(path: str | Path) -> list[dict[str, str]]:
    """Rows of a run's metrics.csv as dicts of strings."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))
