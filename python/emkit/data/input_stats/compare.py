"""Is a new image like the training inputs? ``compare(stats, features)`` → ``InputCheck``.

The decision is a nearest-neighbour distance. Every image becomes one vector of four
groups -- intensity (16 points of the histogram's cumulative distribution), noise (log10
σ), spatial frequencies (the band shares) and periodicity (the band peaks) -- each
dimension divided by its spread over the training inputs and each group weighted by
``1/sqrt(its size)`` so that all four count alike. An image's distance is the one to its
nearest training input; the *usual* distance is the ``QUANTILE`` of the training inputs'
own leave-one-out distances. An image is outside when its distance exceeds ``LIMIT``
times the usual one, or when its pixel size (when both are known) lies outside the
training range by more than ``PIXEL_SIZE_SLACK``.

``LIMIT`` is calibrated on emkit's synthetic families (cem, stem, hrtem):
``benchmarks/studies/ood_calibration.py`` trains the statistics on one family and
counts warnings on held-out images of the same family (false alarms) and on the other
families (misses); see its results file for the rates and seeds.

The report names the groups that make most of the distance, each in its own units
against the training range (5th-95th percentile): median intensity, noise σ, dominant
period, strongest spectral peak (over its band's mean power).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional

import numpy as np

from emkit.data.input_stats.features import ImageFeatures
from emkit.data.input_stats.record import InputStats

#: Outside when the nearest-neighbour distance exceeds LIMIT x the usual one (calibrated, see above).
LIMIT = 1.5
#: The usual distance: this quantile of the training inputs' leave-one-out distances.
QUANTILE = 0.9
#: Pixel sizes within [min / SLACK, max * SLACK] of the training range pass.
PIXEL_SIZE_SLACK = 1.25
GROUPS = ("intensity", "noise", "spatial frequencies", "periodicity")
#: Smallest spread per group (so identical training inputs do not make every difference infinite).
MIN_SPREAD = {"intensity": 0.01, "noise": 0.05, "spatial frequencies": 0.05, "periodicity": 0.05}
#: A group is named in the report when it makes at least this share of the squared distance.
NAMED_SHARE = 0.25


def group_vectors(f: ImageFeatures) -> dict[str, np.ndarray]:
    """The four groups of one image's comparison vector (unscaled)."""
    cdf = np.cumsum(np.asarray(f.hist, dtype=np.float64))
    return {
        "intensity": cdf[1::2],
        "noise": np.array([math.log10(max(f.noise, 1e-5))]),
        "spatial frequencies": np.asarray(f.bands, dtype=np.float64),
        "periodicity": np.asarray(f.peaks, dtype=np.float64),
    }


@dataclasses.dataclass
class Reference:
    """The training inputs as scaled vectors, with the usual nearest-neighbour distance."""

    vectors: np.ndarray  # (N, D), scaled and weighted
    scale: np.ndarray  # (D,) divide a raw vector by this
    slices: dict[str, slice]
    usual: float

    @classmethod
    def build(cls, stats: InputStats) -> "Reference":
        groups = [group_vectors(f) for f in stats.features]
        slices, start = {}, 0
        for name in GROUPS:
            size = len(groups[0][name])
            slices[name] = slice(start, start + size)
            start += size
        raw = np.stack([np.concatenate([g[name] for name in GROUPS]) for g in groups])
        spread = np.nanstd(raw, axis=0) if len(raw) > 1 else np.zeros(raw.shape[1])
        scale = np.empty(raw.shape[1])
        for name, sl in slices.items():
            size = sl.stop - sl.start
            scale[sl] = np.maximum(np.nan_to_num(spread[sl]), MIN_SPREAD[name]) * math.sqrt(size)
        vectors = raw / scale
        usual = _usual_distance(vectors)
        return cls(vectors, scale, slices, usual)

    def nearest(self, f: ImageFeatures) -> tuple[float, np.ndarray]:
        """(distance to the nearest training input, per-dimension squared differences to it)."""
        v = np.concatenate([group_vectors(f)[name] for name in GROUPS]) / self.scale
        sq = np.where(np.isnan(v - self.vectors), 0.0, (v - self.vectors) ** 2)
        totals = sq.sum(axis=1)
        best = int(np.argmin(totals))
        return math.sqrt(float(totals[best])), sq[best]


def reference(stats: InputStats) -> Reference:
    """The scaled training vectors of ``stats`` (built once per statistics object)."""
    cached = stats.__dict__.get("_reference")
    if cached is None:
        cached = stats.__dict__["_reference"] = Reference.build(stats)
    return cached


def _usual_distance(vectors: np.ndarray) -> float:
    """``QUANTILE`` of the leave-one-out nearest-neighbour distances (1.0 for a single input)."""
    n = len(vectors)
    if n < 2:
        return 1.0
    diff = vectors[:, None, :] - vectors[None, :, :]
    d2 = np.where(np.isnan(diff), 0.0, diff * diff).sum(axis=2)
    np.fill_diagonal(d2, np.inf)
    loo = np.sqrt(d2.min(axis=1))
    return max(float(np.quantile(loo, QUANTILE)), 1e-6)


@dataclasses.dataclass(frozen=True)
class InputCheck:
    """The outcome for one image: ``outside`` and what differs (see the module docstring)."""

    outside: bool
    #: Distance to the nearest training input over the usual distance (outside above ``LIMIT``).
    ratio: float
    #: Share of the squared distance per group (sums to 1).
    shares: dict[str, float]
    #: Group → (this image's value, training 5th percentile, 95th percentile), in readable units.
    values: dict[str, tuple[float, float, float]]
    pixel_size: Optional[tuple[float, float, float]] = None

    def reasons(self) -> list[str]:
        """What differs most, one phrase per named group (plus the pixel size when it is off)."""
        named = [g for g, s in sorted(self.shares.items(), key=lambda kv: -kv[1]) if s >= NAMED_SHARE]
        phrases = [_phrase(g, *self.values[g]) for g in named[:2]]
        if self.pixel_size is not None and not _within_slack(*self.pixel_size):
            value, lo, hi = self.pixel_size
            phrases.insert(0, f"pixel size {value:.3g} nm (training {lo:.3g}-{hi:.3g} nm, "
                              f"{_times(value, lo, hi)})")
        return phrases

    def summary(self) -> str:
        """One line: how far, and the measures that differ most."""
        head = f"unlike the model's training inputs (distance {self.ratio:.1f}x the usual, limit {LIMIT:g}x)"
        reasons = self.reasons()
        return head + (", most in " + ", ".join(reasons) if reasons else "")


#: Group → (what is shown, number format, unit).
_UNITS = {
    "intensity": ("median intensity", "{:.2f}", ""),
    "noise": ("noise sigma", "{:.3g}", ""),
    "spatial frequencies": ("dominant period", "{:.3g}", " px"),
    "periodicity": ("strongest spectral peak", "{:.3g}", "x its band's mean"),
}


def _phrase(group: str, value: float, lo: float, hi: float) -> str:
    label, fmt, unit = _UNITS[group]
    shown = fmt.format(value) + unit if math.isfinite(value) else "none above the noise"
    return f"{group} ({label} {shown}; training {fmt.format(lo)}-{fmt.format(hi)}{unit})"


def _times(value: float, lo: float, hi: float) -> str:
    return f"{value / hi:.1f}x larger" if value > hi else f"{lo / value:.1f}x smaller"


def _within_slack(value: float, lo: float, hi: float) -> bool:
    return lo / PIXEL_SIZE_SLACK <= value <= hi * PIXEL_SIZE_SLACK


def readable(f: ImageFeatures) -> dict[str, float]:
    """The value shown for each group (the strongest peak as a factor over its band's mean power)."""
    return {"intensity": f.median, "noise": f.noise, "spatial frequencies": f.period, "periodicity": 10.0 ** f.peak}


def compare(stats: InputStats, features: ImageFeatures, pixel_size_nm: Optional[float] = None) -> InputCheck:
    """Compare one image's ``features`` (and pixel size) with the training inputs in ``stats``."""
    ref = reference(stats)
    distance, sq = ref.nearest(features)
    ratio = distance / ref.usual
    total = float(sq.sum()) or 1.0
    shares = {name: float(sq[sl].sum()) / total for name, sl in ref.slices.items()}
    mine = readable(features)
    training = [readable(f) for f in stats.features]
    values = {}
    for g in GROUPS:
        column = np.array([t[g] for t in training], dtype=np.float64)
        column = column[np.isfinite(column)]
        lo, hi = (float(np.percentile(column, 5)), float(np.percentile(column, 95))) if column.size else (math.nan,) * 2
        values[g] = (mine[g], lo, hi)
    pixel = None
    if pixel_size_nm is not None and stats.pixel_size_nm is not None:
        pixel = (float(pixel_size_nm), *stats.pixel_size_nm)
    outside = ratio > LIMIT or (pixel is not None and not _within_slack(*pixel))
    return InputCheck(outside, ratio, shares, values, pixel)
