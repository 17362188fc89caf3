"""Intensity normalisation of raw EM pixels into what the training engine consumes.

The engine accepts uint8/uint16 tensors (it divides by the dtype's maximum itself, on the
device) or float32 already in roughly [0, 1]. Keeping 8-bit data as uint8 is the fast
path (4x less memory and host-to-device traffic), so ``auto`` does that and only
converts what the engine could not scale correctly on its own.

Modes (``normalize=...`` in every file-based dataset):

``auto``       uint8 stays raw uint8; any other type goes through ``percentile``.
``none``       ints raw (uint8/uint16; other ints are range-checked into uint16),
               floats as float32 unchanged -- use when files are already in [0, 1].
``fixed``      ``x / scale`` as float32 (``scale`` defaults to the dtype's maximum, e.g.
               4095 for 12-bit data stored as uint16 needs ``scale=4095``).
``percentile`` per image: clip to the ``[low, high]`` percentiles, map to [0, 1]
               (robust to hot pixels and to the arbitrary offsets of float data).
``meanstd``    dataset statistics: ``z = (x/scale - mean) / std``, then ``0.5 + z/8``
               clipped to [0, 1] (mean at 0.5, +-4 std spans the range), so images from
               sources with different exposure share one intensity scale.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Literal, Optional

import numpy as np

NormMode = Literal["auto", "none", "fixed", "percentile", "meanstd"]


@dataclasses.dataclass(frozen=True)
class Normalizer:
    """A normalisation rule; ``__call__`` maps a raw array to uint8/uint16 or float32."""

    mode: NormMode = "auto"
    scale: Optional[float] = None
    low: float = 0.5
    high: float = 99.5
    mean: Optional[float] = None
    std: Optional[float] = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.low < self.high <= 100.0:
            raise ValueError(f"percentiles must satisfy 0 <= low < high <= 100, got {self.low}, {self.high}")
        if self.scale is not None and self.scale <= 0:
            raise ValueError(f"scale must be positive, got {self.scale}")
        if self.std is not None and self.std <= 0:
            raise ValueError(f"std must be positive, got {self.std}")

    @property
    def needs_stats(self) -> bool:
        """True when ``meanstd`` still lacks the dataset mean/std."""
        return self.mode == "meanstd" and (self.mean is None or self.std is None)

    def with_stats(self, mean: float, std: float) -> "Normalizer":
        return dataclasses.replace(self, mean=float(mean), std=float(max(std, 1e-6)))

    def __call__(self, arr: np.ndarray) -> np.ndarray:
        mode = self.mode
        if mode == "auto":
            mode = "none" if arr.dtype == np.uint8 else "percentile"
        if mode == "none":
            return keep_raw(arr)
        if mode == "fixed":
            return fixed_scale(arr, self.scale)
        if mode == "percentile":
            return percentile_scale(arr, self.low, self.high)
        if self.mean is None or self.std is None:
            raise ValueError("meanstd normalisation needs the dataset mean and std (compute them first)")
        return standardize(arr, self.mean, self.std, self.scale)


def dtype_max(dtype: np.dtype) -> float:
    """Full-scale value of an integer dtype (1.0 for floats)."""
    dt = np.dtype(dtype)
    return float(np.iinfo(dt).max) if dt.kind in "ui" else 1.0


def keep_raw(arr: np.ndarray) -> np.ndarray:
    """uint8/uint16 unchanged, floats as float32, other integers into uint16 when they fit."""
    if arr.dtype in (np.uint8, np.uint16):
        return arr
    if arr.dtype.kind == "f":
        return arr.astype(np.float32, copy=False)
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8)
    lo, hi = int(arr.min()), int(arr.max())
    if lo >= 0 and hi <= 65535:
        return arr.astype(np.uint16)
    # Signed data (e.g. int16 MRC) cannot be scaled by the consumer: fall back to a fixed map.
    return fixed_scale(arr, None)


def fixed_scale(arr: np.ndarray, scale: Optional[float]) -> np.ndarray:
    """``arr / scale`` as float32 clipped to [0, 1]; signed ints map their full range."""
    a = arr.astype(np.float32)
    if scale is None and arr.dtype.kind == "i":
        info = np.iinfo(arr.dtype)
        return np.clip((a - info.min) / float(info.max - info.min), 0.0, 1.0)
    s = float(scale) if scale is not None else dtype_max(arr.dtype)
    return np.clip(a / s, 0.0, 1.0)


def percentile_scale(arr: np.ndarray, low: float = 0.5, high: float = 99.5) -> np.ndarray:
    """Clip to the image's ``[low, high]`` percentiles and stretch to [0, 1] (float32)."""
    a = np.asarray(arr, dtype=np.float32)
    if low > 0 or high < 100:
        lo, hi = (float(v) for v in np.percentile(a, [low, high]))
    else:
        lo, hi = float(a.min()), float(a.max())
    if hi <= lo:  # a nearly constant image: fall back to min/max
        lo, hi = float(a.min()), float(a.max())
        if hi <= lo:
            return np.zeros_like(a)
    return np.clip((a - lo) / (hi - lo), 0.0, 1.0).astype(np.float32, copy=False)


def standardize(arr: np.ndarray, mean: float, std: float, scale: Optional[float] = None) -> np.ndarray:
    """Dataset mean/std normalisation mapped into [0, 1]: ``0.5 + (x' - mean) / (8 std)``.

    ``x'`` is the pixel in [0, 1] units (ints divided by ``scale`` or the dtype maximum).
    """
    a = arr.astype(np.float32)
    if arr.dtype.kind in "ui":
        a /= float(scale) if scale is not None else dtype_max(arr.dtype)
    elif scale is not None:
        a /= float(scale)
    return np.clip(0.5 + (a - mean) / (8.0 * std), 0.0, 1.0)


def unit_values(arr: np.ndarray, scale: Optional[float] = None) -> np.ndarray:
    """Pixels in [0, 1] units for statistics: ints / (scale or dtype max), floats as they are."""
    a = arr.astype(np.float64)
    if arr.dtype.kind in "ui":
        a /= float(scale) if scale is not None else dtype_max(arr.dtype)
    elif scale is not None:
        a /= float(scale)
    return a


class RunningStats:
    """Streaming mean/std/min/max over many images (float64 sums; mergeable, JSON-able)."""

    def __init__(self, count: int = 0, total: float = 0.0, total_sq: float = 0.0,
                 minimum: float = float("inf"), maximum: float = float("-inf")) -> None:
        self.count, self.total, self.total_sq = count, total, total_sq
        self.minimum, self.maximum = minimum, maximum

    def add(self, values: np.ndarray) -> None:
        v = np.asarray(values, dtype=np.float64)
        self.count += v.size
        self.total += float(v.sum())
        self.total_sq += float(np.square(v).sum())
        self.minimum = min(self.minimum, float(v.min()))
        self.maximum = max(self.maximum, float(v.max()))

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else float("nan")

    @property
    def std(self) -> float:
        if not self.count:
            return float("nan")
        return float(np.sqrt(max(self.total_sq / self.count - self.mean**2, 0.0)))

    def to_dict(self) -> dict[str, float]:
        return {"count": self.count, "total": self.total, "total_sq": self.total_sq,
                "min": self.minimum, "max": self.maximum}

    @classmethod
    def from_dict(cls, d: dict[str, float]) -> "RunningStats":
        return cls(int(d["count"]), d["total"], d["total_sq"], d["min"], d["max"])

    def summary(self) -> dict[str, float]:
        return {"mean": self.mean, "std": self.std, "min": self.minimum, "max": self.maximum}


def dataset_stats(arrays: Iterable[np.ndarray], scale: Optional[float] = None) -> tuple[float, float]:
    """Mean and std of all pixels of ``arrays`` in [0, 1] units (for ``meanstd``)."""
    stats = RunningStats()
    for arr in arrays:
        stats.add(unit_values(arr, scale))
    if not stats.count:
        raise ValueError("no images to compute statistics from")
    return stats.mean, stats.std
