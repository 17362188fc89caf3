"""What predict checks in an input image's values before predicting it, and what it reports.

Training refuses NaN/Inf, constant and tiny images; predict must not turn them into a
silent all-NaN or meaningless output either:

* NaN/Inf pixels are refused (``--nan error``, the default) with the file and the count,
  or replaced by the image's median (``--nan fill``), which is reported with the count;
* a constant image and one smaller than ``TINY_SIDE`` pixels on a side are predicted,
  with a warning (a prediction is possible, but carries no information);
* files that cannot be used are skipped under ``--on-error skip`` and listed at the end.

The NaN count and the constant check read the image once in strips of bounded size
(float images; integer images cannot hold NaN, and their constant check uses the same
subsample as the intensity fit, confirmed by a full pass when it looks constant).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import numpy as np

from emkit.data.intensity import EXACT_LIMIT
from emkit.data.problems import summarize
from emkit.data.readers import NAN_POLICIES, BadFileError, display_path
from emkit.predict.inputs.sources import ImageSource

#: Images with a side below this many pixels are predicted with a warning.
TINY_SIDE = 16
#: Pixels per strip of the full pass over an image (bounds its memory).
SCAN_PIXELS = 1 << 22
#: ``--on-error`` choices (``NAN_POLICIES``, from the readers, are the ``--nan`` choices).
ON_ERROR = ("stop", "skip")


@dataclasses.dataclass
class PredictReport:
    """Skipped files, warnings and notes of one ``emkit predict`` call.

    ``note`` shows a warning now, ``info`` a plain note (e.g. the measured tiling deviation).
    """

    note: Callable[[str], None] = lambda message: None
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    info: Callable[[str], None] = lambda message: None

    def warn(self, message: str) -> None:
        self.notes.append(message)
        self.note(message)

    def inform(self, message: str) -> None:
        self.notes.append(message)
        self.info(message)

    def skip(self, exc: BadFileError) -> None:
        self.skipped.append((exc.path, exc.reason))

    def summary(self) -> str:
        return summarize(self.skipped)


@dataclasses.dataclass(frozen=True)
class ImageValues:
    """The outcome of ``inspect_image``: the fill value for NaN/Inf pixels (None: none to fill)."""

    fill: Optional[float] = None

    def clean(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` with non-finite pixels replaced by the fill value (unchanged without one)."""
        if self.fill is None:
            return rows
        return np.where(np.isfinite(rows), rows, rows.dtype.type(self.fill))


def inspect_image(source: ImageSource, n: int, nan: str, report: PredictReport) -> ImageValues:
    """Check image ``n`` of ``source``: refuse or fill NaN/Inf, warn about constant and tiny images."""
    if nan not in NAN_POLICIES:
        raise ValueError(f"nan must be one of {NAN_POLICIES}, got {nan!r}")
    _, _, h, w = source.shape
    where = display_path(source.path) + ("" if source.shape[0] == 1 else f" (image {n})")
    sample = source.sample(n, EXACT_LIMIT)
    bad, lo, hi = _full_pass(source, n) if source.dtype.kind == "f" else (0, sample.min(), sample.max())
    if source.dtype.kind != "f" and lo == hi:
        _, lo, hi = _full_pass(source, n)
    values = ImageValues()
    if bad:
        if bad == h * w * source.shape[1]:
            raise BadFileError(source.path, f"every pixel of image {n} is NaN/Inf; nothing to predict")
        if nan != "fill":
            raise BadFileError(
                source.path, f"{bad} NaN/Inf pixel values in image {n} (--nan fill replaces them with the median)"
            )
        finite = sample[np.isfinite(sample)]
        median = float(np.median(finite)) if finite.size else float((lo + hi) / 2)
        values = ImageValues(fill=median)
        report.warn(f"{where}: replaced {bad} NaN/Inf pixel values with the image median {median:.6g}")
    if lo == hi:
        report.warn(f"{where}: constant image (every pixel is {float(lo):g}); the prediction carries no information")
    if min(h, w) < TINY_SIDE:
        report.warn(f"{where}: only {w}x{h} pixels; the model never saw images this small, "
                    "so the prediction may be meaningless")
    return values


def _full_pass(source: ImageSource, n: int) -> tuple[int, float, float]:
    """(non-finite count, min, max of the finite pixels) of image ``n``, strip by strip."""
    _, c, h, w = source.shape
    step = max(1, SCAN_PIXELS // max(1, w * c))
    bad, lo, hi = 0, np.inf, -np.inf
    for r0 in range(0, h, step):
        rows = source.read_rows(n, r0, min(h, r0 + step))
        if rows.dtype.kind == "f":
            finite = np.isfinite(rows)
            count = int(rows.size - np.count_nonzero(finite))
            if count:
                bad += count
                rows = rows[finite]
        if rows.size:
            lo, hi = min(lo, rows.min()), max(hi, rows.max())
    return bad, lo, hi
