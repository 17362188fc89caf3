"""Input intensities → [0, 1], the same way the run's training data were normalised.

Every normalisation of ``emkit.data.normalize`` is, per image, an affine map followed
by an optional clip to [0, 1]. ``Scaling`` is that map: it is fitted once per image
(percentiles need the image's statistics) and then applied tile by tile, so a huge
image is never normalised as a whole.

Modes (``emkit predict --normalize``):

``run``         (default) what the run's ``config.yaml`` says under ``data.normalize``
                (``auto`` when the run has no config or names none);
``auto``        uint8 ÷ 255, anything else per-image percentiles (as in training);
``none``        uint8/uint16 ÷ their maximum, floats unchanged (already in [0, 1]);
``fixed``       ``x / scale`` clipped (``--scale``, default: the dtype's maximum);
``percentile``  clip to the image's [low, high] percentiles and stretch to [0, 1];
``meanstd``     ``0.5 + (x/scale - mean) / (8·std)`` clipped, with the run's mean/std.

Percentiles of images above ``EXACT_LIMIT`` pixels are estimated from an evenly
strided subsample of rows and columns (memory stays bounded).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional

import numpy as np

from emkit.errors import EmkitError

MODES = ("run", "auto", "none", "fixed", "percentile", "meanstd")

#: Images up to this many pixels get exact percentiles.
EXACT_LIMIT = 1 << 24


@dataclasses.dataclass(frozen=True)
class Scaling:
    """``unit = clip(x · gain + offset, 0, 1)`` (no clip when ``clip`` is False)."""

    gain: float
    offset: float = 0.0
    clip: bool = False

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = x.astype(np.float32)
        if self.gain != 1.0:
            out *= np.float32(self.gain)
        if self.offset != 0.0:
            out += np.float32(self.offset)
        if self.clip:
            np.clip(out, 0.0, 1.0, out=out)
        return out


@dataclasses.dataclass(frozen=True)
class Normalization:
    """A normalisation rule (the run's ``data`` settings or a command-line choice)."""

    mode: str = "auto"
    scale: Optional[float] = None
    low: float = 0.5
    high: float = 99.5
    mean: Optional[float] = None
    std: Optional[float] = None

    @classmethod
    def from_run(cls, data: dict[str, Any] | None) -> "Normalization":
        """The rule a run trained with (its ``config.yaml`` ``data`` section)."""
        data = data or {}
        return cls(
            mode=str(data.get("normalize") or "auto"),
            scale=data.get("scale"),
            low=float(data.get("percentile_low", 0.5)),
            high=float(data.get("percentile_high", 99.5)),
            mean=data.get("mean"),
            std=data.get("std"),
        )

    def fit(self, dtype: np.dtype, sample: Callable[[int], np.ndarray], where: str) -> Scaling:
        """The affine map for one image of ``dtype``; ``sample(limit)`` returns its pixels
        (all of them, or a strided subsample of at most about ``limit``)."""
        dt = np.dtype(dtype)
        mode = self.mode
        if mode == "auto":
            mode = "none" if dt == np.uint8 else "percentile"
        if mode == "none":
            return _raw_scaling(dt, sample)
        if mode == "fixed":
            if self.scale is None and dt.kind == "i":
                info = np.iinfo(dt)
                return Scaling(1.0 / (info.max - info.min), -info.min / (info.max - info.min), True)
            return Scaling(1.0 / _full_scale(dt, self.scale), 0.0, True)
        if mode == "percentile":
            values = sample(EXACT_LIMIT).astype(np.float32, copy=False)
            lo, hi = np.percentile(values, [self.low, self.high]) if (self.low > 0 or self.high < 100) else (
                values.min(), values.max())
            if hi <= lo:
                lo, hi = float(values.min()), float(values.max())
                if hi <= lo:
                    return Scaling(0.0, 0.0, True)
            return Scaling(1.0 / (float(hi) - float(lo)), -float(lo) / (float(hi) - float(lo)), True)
        if mode == "meanstd":
            if self.mean is None or self.std is None:
                raise EmkitError(
                    f"{where}: the run normalised with meanstd but its config.yaml records no data.mean/data.std; "
                    "pass --normalize with another mode"
                )
            s = _full_scale(dt, self.scale) if dt.kind in "ui" else (self.scale or 1.0)
            k = 1.0 / (8.0 * max(float(self.std), 1e-6))
            return Scaling(k / s, 0.5 - float(self.mean) * k, True)
        raise EmkitError(f"unknown normalisation {self.mode!r}; choose one of {', '.join(MODES[1:])}")


def _full_scale(dt: np.dtype, scale: Optional[float]) -> float:
    if scale is not None:
        return float(scale)
    return float(np.iinfo(dt).max) if dt.kind in "ui" else 1.0


def _raw_scaling(dt: np.dtype, sample: Callable[[int], np.ndarray]) -> Scaling:
    """``keep_raw`` then the engine's ``to_unit``: uint8/16 by their range, floats as they are."""
    if dt in (np.uint8, np.uint16):
        return Scaling(1.0 / np.iinfo(dt).max)
    if dt.kind == "f":
        return Scaling(1.0)
    if dt == np.bool_:
        return Scaling(1.0)
    values = sample(EXACT_LIMIT)
    lo, hi = int(values.min()), int(values.max())
    if lo >= 0 and hi <= 65535:
        return Scaling(1.0 / 65535.0)
    info = np.iinfo(dt)
    return Scaling(1.0 / (info.max - info.min), -info.min / (info.max - info.min), True)


def resolve(mode: str, run_data: dict[str, Any] | None, scale: Optional[float] = None) -> Normalization:
    """The ``Normalization`` for ``--normalize mode`` (``run``: from the run's config)."""
    if mode not in MODES:
        raise EmkitError(f"--normalize {mode!r} is not one of {', '.join(MODES)}")
    base = Normalization.from_run(run_data)
    if mode != "run":
        base = dataclasses.replace(base, mode=mode)
    if scale is not None:
        base = dataclasses.replace(base, scale=float(scale))
    return base
