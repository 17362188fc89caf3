"""Is each input like the model's training data? The predict side of ``emkit.data.input_stats``.

``InputChecker.for_model(model)`` reads the run's ``input_stats.json`` (beside its
weights). ``check`` describes one image of an open source exactly as the statistics
describe training inputs -- intensities after the same normalisation, the same windows
(read strip by strip, so a huge image costs a few windows) -- and compares it
(``compare``); an image outside gets one line (which measures differ, by how much) and
every image a row for ``input_check.csv``.

A run made before emkit recorded statistics (or one whose file cannot be read) is not an
error: ``unavailable`` says why, once, and nothing is checked.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from emkit.data.input_stats import STATS_FILE, InputCheck, InputStats, compare, load_stats
from emkit.data.input_stats.compare import GROUPS, LIMIT
from emkit.data.input_stats.features import MIN_SIDE, ImageFeatures, image_features, window_corners
from emkit.data.intensity import EXACT_LIMIT, Scaling
from emkit.errors import DataError
from emkit.predict.inputs.sources import ImageSource

CSV_FILE = "input_check.csv"
COLUMNS = ("file", "image", "status", "distance", *(f"share_{g.replace(' ', '_')}" for g in GROUPS),
           "median_intensity", "noise_sigma", "dominant_period_px", "pixel_size_nm", "note")


def source_features(source: ImageSource, n: int, scaling: Scaling,
                    clean: Callable[[np.ndarray], np.ndarray] = lambda a: a) -> Optional[ImageFeatures]:
    """Features of image ``n`` of ``source`` as the model sees it (None: smaller than ``MIN_SIDE``)."""
    _, _, h, w = source.shape
    if min(h, w) < MIN_SIDE:
        return None
    side, corners = window_corners(h, w)
    windows = []
    for y in sorted({y for y, _ in corners}):
        rows = scaling(clean(source.read_rows(n, y, y + side))).mean(axis=0)
        windows += [rows[:, x : x + side] for yy, x in corners if yy == y]
    values = scaling(clean(source.sample(n, EXACT_LIMIT)))
    return image_features(windows, values)


def array_image_features(image: np.ndarray, scaling: Scaling) -> Optional[ImageFeatures]:
    """``source_features`` for an in-memory ``(C, H, W)`` / ``(H, W)`` image of raw pixels."""
    from emkit.predict.inputs.sources import ArraySource

    arr = image[None] if image.ndim == 2 else image
    return source_features(ArraySource(Path("<array>"), arr, arr.shape[0], _no_meta()), 0, scaling)


def _no_meta() -> Any:
    from emkit.predict.metadata import ImageMeta

    return ImageMeta()


class InputChecker:
    """Compares every predicted image with a run's training inputs and keeps one row per image."""

    def __init__(self, stats: Optional[InputStats], unavailable: str = "") -> None:
        self.stats = stats
        self.unavailable = unavailable
        self.rows: list[dict[str, Any]] = []

    @classmethod
    def for_run(cls, folder: Path) -> "InputChecker":
        """The checker of the run (or weights) folder ``folder``; says why when it cannot check."""
        try:
            stats = load_stats(folder / STATS_FILE)
        except DataError as exc:
            return cls(None, f"cannot compare inputs with the training data: {exc}")
        if stats is None:
            return cls(None, f"cannot compare inputs with the training data: {folder} has no {STATS_FILE} "
                             "(runs trained before emkit recorded input statistics have none; retraining writes it)")
        return cls(stats)

    def check(self, source: ImageSource, n: int, scaling: Scaling, where: str,
              clean: Callable[[np.ndarray], np.ndarray] = lambda a: a) -> Optional[InputCheck]:
        """Check image ``n`` of ``source``; record its row; the result (None: not checked)."""
        if self.stats is None:
            return None
        features = source_features(source, n, scaling, clean)
        pixel = source.meta.pixel_size_nm
        size = None if pixel is None else math.sqrt(pixel[0] * pixel[1])
        row: dict[str, Any] = {"file": where, "image": n, "pixel_size_nm": _num(size)}
        if features is None:
            row.update(status="unchecked", note=f"smaller than {MIN_SIDE} px")
            self.rows.append(row)
            return None
        result = compare(self.stats, features, size)
        row.update(status="outside" if result.outside else "ok", distance=f"{result.ratio:.3f}",
                   median_intensity=_num(features.median), noise_sigma=_num(features.noise),
                   dominant_period_px=_num(features.period), note=result.summary() if result.outside else "")
        row.update({f"share_{g.replace(' ', '_')}": f"{result.shares[g]:.2f}" for g in GROUPS})
        self.rows.append(row)
        return result

    def csv_text(self) -> str:
        """The rows as CSV (``COLUMNS``), one per checked image."""
        out = io.StringIO()
        writer = csv.DictWriter(out, COLUMNS, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue()

    def write_csv(self, folder: Path) -> Path:
        """``<folder>/input_check.csv`` (written atomically)."""
        from emkit.storage.atomic import write_text_atomic

        path = folder / CSV_FILE
        write_text_atomic(path, self.csv_text())
        return path


def _num(value: Optional[float]) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.4g}"


__all__ = ["CSV_FILE", "InputChecker", "LIMIT", "array_image_features", "source_features"]
