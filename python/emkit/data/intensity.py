"""Raw pixel intensities → [0, 1] units: the one normalisation model of datasets and predict.

Not to be confused with the image-space conversion of generators ([0, 1] ↔ [-1, 1]),
which lives in the plugin API layer. This module answers "how do the stored pixel values
of a file become intensities in [0, 1]", the same way in training and in prediction:

* ``IntensityConfig`` is the one config type (keys ``data.normalize``, ``data.scale``,
  ``data.percentile_low``/``high``, ``data.mean``/``std``). File datasets inherit it, and
  ``emkit predict`` rebuilds it from the ``data`` section of a run's ``config.yaml``.
  ``normalize`` is the discriminator: ``config.rule()`` returns the rule of that mode.
* One ``IntensityRule`` subclass per mode. ``rule.fit(dtype, sample)`` returns the
  per-image map (a ``Scaling``): predict fits it once per image and applies it tile by
  tile (a huge image is never normalised as a whole); ``rule(arr)`` fits and applies it
  to a whole array (datasets), keeping integer pixels raw where the engine scales them
  itself (``none`` / ``auto`` on uint8: 4x less memory and host-to-device traffic).

Modes:

``auto``       uint8 stays raw uint8; any other type goes through ``percentile``.
``none``       by the pixel type alone, as ``plugin_api.to_unit`` maps tensors: uint8 /
               uint16 raw (divided by 255 / 65535 by the engine), other integer types
               by their full range (int16 -32768 → 0, 32767 → 1; a 32/64-bit image
               whose values fit in 0..65535 is read as uint16), floats as float32
               unchanged -- use when files are already in [0, 1].
``fixed``      ``x / scale`` clipped; without ``scale`` the dtype's full range (its
               maximum for unsigned types; 12-bit data stored as uint16 needs
               ``scale=4095``).
``percentile`` per image: clip to the ``[low, high]`` percentiles, map to [0, 1]
               (robust to hot pixels and to the arbitrary offsets of float data).
``meanstd``    dataset statistics: ``z = (x/scale - mean) / std``, then ``0.5 + z/8``
               clipped to [0, 1] (mean at 0.5, +-4 std spans the range), so images from
               sources with different exposure share one intensity scale.

Percentiles of images above ``EXACT_LIMIT`` pixels are estimated by predict from an
evenly strided subsample of rows and columns (memory stays bounded); datasets always
use every pixel.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, ClassVar, Iterable, Literal, Mapping, Optional, get_args

import numpy as np

from emkit.config.ranges import ranged
from emkit.errors import ConfigError, EmkitError

NormMode = Literal["auto", "none", "fixed", "percentile", "meanstd"]
MODES: tuple[str, ...] = get_args(NormMode)

#: Images up to this many pixels get exact percentiles in predict.
EXACT_LIMIT = 1 << 24

#: ``sample(limit)`` returns an image's pixels: all, or an evenly strided subsample of about ``limit``.
Sampler = Callable[[int], np.ndarray]


# --------------------------------------------------------------------------- the config type


@dataclasses.dataclass
class IntensityConfig:
    """Intensity normalisation settings (CLI keys ``data.<field>``); ``normalize`` picks the rule."""

    #: Intensity normalisation: auto | none | fixed | percentile | meanstd.
    normalize: NormMode = "auto"
    #: Full-scale value for "fixed"/"meanstd" (None: the dtype maximum, e.g. 255).
    scale: Optional[float] = ranged(None, 0, None, exclusive_min=True)
    percentile_low: float = ranged(0.5, 0, 100)
    percentile_high: float = ranged(99.5, 0, 100)
    #: Dataset mean/std in [0, 1] units for "meanstd" (None: estimated from training files).
    mean: Optional[float] = ranged(None, 0, 1)
    std: Optional[float] = ranged(None, 0, None, exclusive_min=True)

    def rule(self) -> "IntensityRule":
        """The rule of mode ``normalize`` with this config's parameters."""
        return make_rule(self.normalize, scale=self.scale, low=self.percentile_low,
                         high=self.percentile_high, mean=self.mean, std=self.std)

    @classmethod
    def from_mapping(cls, data: Optional[Mapping[str, Any]]) -> "IntensityConfig":
        """The settings recorded in a run's ``config.yaml`` ``data`` section (defaults where absent)."""
        data = data or {}

        def number(key: str, default: Optional[float]) -> Optional[float]:
            value = data.get(key, default)
            if value is None:
                return default
            try:
                return float(value)
            except (TypeError, ValueError):
                raise ConfigError(f"data.{key} recorded as {value!r}; expected a number") from None

        return cls(
            normalize=str(data.get("normalize") or "auto"),  # type: ignore[arg-type]
            scale=number("scale", None),
            percentile_low=number("percentile_low", 0.5),  # type: ignore[arg-type]
            percentile_high=number("percentile_high", 99.5),  # type: ignore[arg-type]
            mean=number("mean", None),
            std=number("std", None),
        )


# --------------------------------------------------------------------------- the per-image map


@dataclasses.dataclass(frozen=True)
class Scaling:
    """``unit = (x / pre - shift) / span + base``, clipped to [0, 1] when ``clip``.

    Identity steps are skipped, and the order (divide, subtract, divide) keeps float
    precision when an image sits on a large offset.
    """

    pre: float = 1.0
    shift: float = 0.0
    span: float = 1.0
    base: float = 0.0
    clip: bool = False

    def __call__(self, x: np.ndarray) -> np.ndarray:
        # 32/64-bit integers are mapped in float64: float32 cannot hold them exactly
        wide = x.dtype.kind in "iu" and x.dtype.itemsize > 2
        work = np.float64 if wide else np.float32
        out = x.astype(work)
        if self.pre != 1.0:
            out /= work(self.pre)
        if self.shift != 0.0:
            out -= work(self.shift)
        if self.span != 1.0:
            out /= work(self.span)
        if self.base != 0.0:
            out += work(self.base)
        if self.clip:
            np.clip(out, 0.0, 1.0, out=out)
        return out.astype(np.float32, copy=False)


# --------------------------------------------------------------------------- one rule per mode


class IntensityRule:
    """One normalisation mode. ``fit`` gives the per-image map; calling maps a whole array."""

    mode: ClassVar[str]

    def fit(self, dtype: np.dtype, sample: Sampler, where: str = "") -> Scaling:
        raise NotImplementedError

    def __call__(self, arr: np.ndarray) -> np.ndarray:
        """The whole array normalised (exact statistics over every pixel)."""
        return self.fit(arr.dtype, lambda limit: arr.reshape(-1))(arr)

    @property
    def needs_stats(self) -> bool:
        """True when the rule still lacks dataset statistics (``meanstd``)."""
        return False


def dtype_max(dtype: np.dtype) -> float:
    """Full-scale value of an integer dtype (1.0 for floats and bool)."""
    dt = np.dtype(dtype)
    return float(np.iinfo(dt).max) if dt.kind in "ui" else 1.0


def unit_scaling(dtype: np.dtype, scale: Optional[float] = None) -> Scaling:
    """Stored pixels of ``dtype`` → [0, 1] units, unclipped: ``x / scale`` when given, else
    ``plugin_api.to_unit``'s map (integers by their full range, min → 0 and max → 1;
    floats and bool unchanged)."""
    dt = np.dtype(dtype)
    if scale is not None:
        return Scaling(pre=float(scale))
    if dt.kind == "u":
        return Scaling(pre=dtype_max(dt))
    if dt.kind == "i":
        info = np.iinfo(dt)
        return Scaling(shift=float(info.min), span=float(info.max) - float(info.min))
    return Scaling()


@dataclasses.dataclass(frozen=True)
class FixedRule(IntensityRule):
    """``x / scale`` clipped; without ``scale`` the dtype's full range (``unit_scaling``)."""

    scale: Optional[float] = None
    mode: ClassVar[str] = "fixed"

    def fit(self, dtype: np.dtype, sample: Sampler, where: str = "") -> Scaling:
        return dataclasses.replace(unit_scaling(dtype, self.scale), clip=True)


@dataclasses.dataclass(frozen=True)
class RawRule(IntensityRule):
    """Pixels mapped by their type alone, as ``plugin_api.to_unit`` maps tensors.

    uint8/uint16 stay raw (the engine divides by their maximum), floats become float32
    unchanged, bool 0/1 float32, and the other integer types map their full range onto
    [0, 1] (``FixedRule`` without a scale: int16 -32768 → 0, 32767 → 1). The exception:
    a 32/64-bit integer image whose values all fit in 0..65535 holds 16-bit counts in a
    wide container (as many writers store them; the full range would flatten it to one
    grey value in float32) and is read as uint16.
    """

    mode: ClassVar[str] = "none"

    def fit(self, dtype: np.dtype, sample: Sampler, where: str = "") -> Scaling:
        dt = np.dtype(dtype)
        if dt in (np.uint8, np.uint16):
            return Scaling(pre=dtype_max(dt))
        if dt.kind == "f" or dt == np.bool_:
            return Scaling()
        if dt.itemsize > 2 and _fits_uint16(sample(EXACT_LIMIT)):
            return Scaling(pre=65535.0)
        return FixedRule().fit(dt, sample, where)

    def __call__(self, arr: np.ndarray) -> np.ndarray:
        if arr.dtype in (np.uint8, np.uint16):
            return arr
        if arr.dtype.kind == "f" or arr.dtype == np.bool_:
            return arr.astype(np.float32, copy=False)
        if arr.dtype.itemsize > 2 and _fits_uint16(arr):
            return arr.astype(np.uint16)
        return FixedRule()(arr)


def _fits_uint16(values: np.ndarray) -> bool:
    return bool(values.size) and int(values.min()) >= 0 and int(values.max()) <= 65535


@dataclasses.dataclass(frozen=True)
class PercentileRule(IntensityRule):
    """Clip to the image's ``[low, high]`` percentiles and stretch to [0, 1]."""

    low: float = 0.5
    high: float = 99.5
    mode: ClassVar[str] = "percentile"

    def fit(self, dtype: np.dtype, sample: Sampler, where: str = "") -> Scaling:
        values = np.asarray(sample(EXACT_LIMIT), dtype=np.float32)
        if self.low > 0 or self.high < 100:
            lo, hi = (float(v) for v in np.percentile(values, [self.low, self.high]))
        else:
            lo, hi = float(values.min()), float(values.max())
        if hi <= lo:  # a nearly constant image: fall back to min/max
            lo, hi = float(values.min()), float(values.max())
            if hi <= lo:
                return Scaling(span=math.inf, clip=True)  # every pixel maps to 0
        return Scaling(shift=lo, span=hi - lo, clip=True)


@dataclasses.dataclass(frozen=True)
class AutoRule(IntensityRule):
    """uint8 raw, anything else by percentiles."""

    low: float = 0.5
    high: float = 99.5
    mode: ClassVar[str] = "auto"

    def _pick(self, dtype: np.dtype) -> IntensityRule:
        return RawRule() if np.dtype(dtype) == np.uint8 else PercentileRule(self.low, self.high)

    def fit(self, dtype: np.dtype, sample: Sampler, where: str = "") -> Scaling:
        return self._pick(dtype).fit(dtype, sample, where)

    def __call__(self, arr: np.ndarray) -> np.ndarray:
        return self._pick(arr.dtype)(arr)


@dataclasses.dataclass(frozen=True)
class MeanStdRule(IntensityRule):
    """``0.5 + (x/scale - mean) / (8 std)`` clipped (pixels in [0, 1] units first)."""

    mean: Optional[float] = None
    std: Optional[float] = None
    scale: Optional[float] = None
    mode: ClassVar[str] = "meanstd"

    @property
    def needs_stats(self) -> bool:
        return self.mean is None or self.std is None

    def with_stats(self, mean: float, std: float) -> "MeanStdRule":
        return dataclasses.replace(self, mean=float(mean), std=float(max(std, 1e-6)))

    def fit(self, dtype: np.dtype, sample: Sampler, where: str = "") -> Scaling:
        if self.mean is None or self.std is None:
            raise ConfigError(
                f"{where or 'input'}: meanstd normalisation needs data.mean and data.std (none recorded or "
                "computed); compute them, or pass another mode (emkit predict --normalize)"
            )
        unit = unit_scaling(dtype, self.scale)  # (x / pre - shift) / span, then the statistics
        return Scaling(pre=unit.pre, shift=unit.shift + float(self.mean) * unit.span,
                       span=8.0 * float(self.std) * unit.span, base=0.5, clip=True)


RULES: dict[str, type[IntensityRule]] = {
    r.mode: r for r in (AutoRule, RawRule, FixedRule, PercentileRule, MeanStdRule)  # type: ignore[type-abstract]
}


def make_rule(mode: str, *, scale: Optional[float] = None, low: float = 0.5, high: float = 99.5,
              mean: Optional[float] = None, std: Optional[float] = None) -> IntensityRule:
    """The rule of ``mode`` with the parameters it uses (the others are ignored)."""
    if scale is not None and scale <= 0:
        raise ConfigError(f"data.scale must be positive, got {scale}")
    if std is not None and std <= 0:
        raise ConfigError(f"data.std must be positive, got {std}")
    if not 0.0 <= low < high <= 100.0:
        raise ConfigError(f"data.percentile_low/high must satisfy 0 <= low < high <= 100, got {low}, {high}")
    if mode == "auto":
        return AutoRule(low, high)
    if mode == "none":
        return RawRule()
    if mode == "fixed":
        return FixedRule(scale)
    if mode == "percentile":
        return PercentileRule(low, high)
    if mode == "meanstd":
        return MeanStdRule(mean, std, scale)
    raise ConfigError(f"unknown normalisation {mode!r}; choose one of {', '.join(MODES)}")


# --------------------------------------------------------------------------- helpers built on the rules


def percentile_scale(arr: np.ndarray, low: float = 0.5, high: float = 99.5) -> np.ndarray:
    """Clip to the image's ``[low, high]`` percentiles and stretch to [0, 1] (float32)."""
    return PercentileRule(low, high)(arr)


def unit_values(arr: np.ndarray, scale: Optional[float] = None) -> np.ndarray:
    """Pixels in [0, 1] units for statistics (``unit_scaling``), in float64."""
    u = unit_scaling(arr.dtype, scale)
    return (arr.astype(np.float64) / u.pre - u.shift) / u.span


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


def resolve_for_prediction(mode: str, run_data: Optional[Mapping[str, Any]],
                           scale: Optional[float] = None) -> IntensityRule:
    """The rule for ``emkit predict --normalize mode``: ``run`` = what the run trained with."""
    if mode != "run" and mode not in MODES:
        raise EmkitError(f"--normalize {mode!r} is not one of run, {', '.join(MODES)}")
    config = IntensityConfig.from_mapping(run_data)
    if mode != "run":
        config = dataclasses.replace(config, normalize=mode)  # type: ignore[arg-type]
    if scale is not None:
        config = dataclasses.replace(config, scale=float(scale))
    return config.rule()
