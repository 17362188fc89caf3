"""A few numbers that describe how an image looks to a network: ``ImageFeatures``.

All measured on intensities in [0, 1] after the run's normalisation (what the generator
sees), on up to ``MAX_WINDOWS`` windows of ``WINDOW`` pixels spread evenly over the image
(a 16k image costs the same as a 512 one):

* ``hist``: intensity histogram (``HIST_BINS`` bins over [0, 1], fractions);
* ``noise``: the noise level, the standard deviation of white noise that would explain
  the finest detail: ``median(|HH|) / 0.6745`` over the diagonal Haar details of 2x2
  blocks (Donoho's robust estimator; structure larger than a pixel barely enters it);
* ``bands``: the spectral power in ``BAND_EDGES`` (log-spaced, 1/64 to 1/2 cycles per
  pixel), as log10 shares of the total -- the feature scales present, whatever the contrast;
* ``peaks``: per band, log10 of the largest over the mean power of the 2-D spectrum --
  high for periodic structure (a crystal lattice's Bragg spots), near 1 for texture;
* ``period``: the dominant period in pixels -- where the whitened (``f² ·``) spectrum
  above the noise floor peaks; NaN when nothing rises above the noise.

Windows are tapered (Hann) and their spectra averaged (Welch), normalised so that white
noise of variance σ² has power σ² per frequency; an image smaller than ``WINDOW`` uses
one window of its own (square) size, and bands below its lowest frequency are NaN.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Sequence

import numpy as np

WINDOW = 128
#: Windows per side at most (so at most 16 windows).
GRID = 4
MAX_WINDOWS = GRID * GRID
HIST_BINS = 32
BAND_EDGES: tuple[float, ...] = tuple(float(f) for f in np.geomspace(1 / 64, 0.5, 13))
#: Smallest image side the features describe.
MIN_SIDE = 32
#: Donoho's constant: the median of |N(0, 1)|.
MAD_NORMAL = 0.6745


@dataclasses.dataclass(frozen=True)
class ImageFeatures:
    """The numbers of one image (see the module docstring)."""

    hist: tuple[float, ...]
    noise: float
    bands: tuple[float, ...]
    peaks: tuple[float, ...]
    period: float

    @property
    def median(self) -> float:
        """The median intensity, interpolated within its histogram bin."""
        cdf = np.cumsum(self.hist)
        k = int(np.searchsorted(cdf, 0.5))
        below = cdf[k - 1] if k else 0.0
        share = self.hist[k] if k < len(self.hist) else 0.0
        frac = (0.5 - below) / share if share > 0 else 0.5
        return float((k + frac) / len(self.hist))

    @property
    def peak(self) -> float:
        """The strongest spectral peak (log10 over the band mean) of any band."""
        finite = [p for p in self.peaks if math.isfinite(p)]
        return max(finite) if finite else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {"hist": _rounded(self.hist, 5), "noise": _round(self.noise), "bands": _rounded(self.bands),
                "peaks": _rounded(self.peaks), "period": _round(self.period)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ImageFeatures":
        def floats(key: str) -> tuple[float, ...]:
            return tuple(float("nan") if v is None else float(v) for v in data[key])

        period = data.get("period")
        return cls(floats("hist"), float(data["noise"]), floats("bands"), floats("peaks"),
                   float("nan") if period is None else float(period))


def _round(value: float, digits: int = 4) -> float | None:
    if not math.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")


def _rounded(values: Sequence[float], digits: int = 4) -> list[float | None]:
    return [_round(float(v), digits) for v in values]


def window_corners(height: int, width: int) -> tuple[int, list[tuple[int, int]]]:
    """``(side, [(y, x), ...])``: up to ``GRID × GRID`` square windows spread evenly over the image."""
    side = min(WINDOW, height, width)
    ys = np.unique(np.linspace(0, height - side, max(1, min(GRID, height // side))).round().astype(int))
    xs = np.unique(np.linspace(0, width - side, max(1, min(GRID, width // side))).round().astype(int))
    return side, [(int(y), int(x)) for y in ys for x in xs]


def array_features(image: np.ndarray) -> ImageFeatures:
    """Features of a whole in-memory image ``(H, W)`` or ``(C, H, W)`` in [0, 1] (channels averaged)."""
    arr = np.asarray(image, dtype=np.float32)
    if arr.ndim == 3:
        arr = arr.mean(axis=0)
    if arr.ndim != 2:
        raise ValueError(f"expected an (H, W) or (C, H, W) image, got shape {arr.shape}")
    side, corners = window_corners(*arr.shape)
    return image_features([arr[y : y + side, x : x + side] for y, x in corners], arr.reshape(-1))


def image_features(windows: Sequence[np.ndarray], values: np.ndarray) -> ImageFeatures:
    """Features from square ``windows`` of one side and ``values`` (all pixels or an even subsample)."""
    if not windows or min(windows[0].shape) < MIN_SIDE:
        raise ValueError(f"image features need windows of at least {MIN_SIDE} px")
    finite = values[np.isfinite(values)]
    counts = np.histogram(np.clip(finite, 0.0, 1.0), bins=HIST_BINS, range=(0.0, 1.0))[0].astype(np.float64)
    hist = counts / max(counts.sum(), 1.0)
    stack = np.stack([np.nan_to_num(np.asarray(w, dtype=np.float64)) for w in windows])
    noise = noise_level(stack)
    power = welch_power(stack)
    bands, peaks = band_profile(power)
    return ImageFeatures(tuple(hist), noise, tuple(bands), tuple(peaks), dominant_period(power, noise))


def noise_level(stack: np.ndarray) -> float:
    """Robust white-noise σ of windows ``(N, s, s)``: median |diagonal Haar detail| / 0.6745."""
    s = stack.shape[-1] // 2 * 2
    a = stack[:, :s, :s]
    hh = (a[:, 0::2, 0::2] - a[:, 0::2, 1::2] - a[:, 1::2, 0::2] + a[:, 1::2, 1::2]) / 2.0
    return float(np.median(np.abs(hh)) / MAD_NORMAL)


@functools.lru_cache(maxsize=8)
def _taper(side: int) -> np.ndarray:
    t = np.outer(np.hanning(side), np.hanning(side))
    return t / math.sqrt(float((t * t).sum()))


@functools.lru_cache(maxsize=8)
def _radius(side: int) -> np.ndarray:
    f = np.fft.fftfreq(side)
    return np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)


def welch_power(stack: np.ndarray) -> np.ndarray:
    """Mean power spectrum of the tapered, mean-free windows (white noise σ² → σ² per frequency)."""
    centred = stack - stack.mean(axis=(1, 2), keepdims=True)
    return np.mean(np.abs(np.fft.fft2(centred * _taper(stack.shape[-1]))) ** 2, axis=0)


def band_profile(power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log10 power share, log10 max/mean power) per band of ``BAND_EDGES``; NaN where a band is empty."""
    f = _radius(power.shape[-1])
    means, peaks = [], []
    for lo, hi in zip(BAND_EDGES[:-1], BAND_EDGES[1:]):
        inside = power[(f >= lo) & (f < hi)]
        mean = float(inside.mean()) if inside.size else float("nan")
        means.append(mean)
        peaks.append(math.log10(float(inside.max()) / mean) if inside.size and mean > 0 else float("nan"))
    means_arr = np.asarray(means)
    total = np.nansum(means_arr)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.log10(np.maximum(means_arr, 1e-30) / total) if total > 0 else np.full_like(means_arr, np.nan)
    shares[~np.isfinite(means_arr)] = np.nan
    return shares, np.asarray(peaks)


def dominant_period(power: np.ndarray, noise: float) -> float:
    """Period (px) where ``f² · (radial power − noise floor)`` peaks; NaN when nothing exceeds the floor."""
    side = power.shape[-1]
    rings = np.rint(_radius(side) * side).astype(int).ravel()
    profile = np.bincount(rings, power.ravel()) / np.maximum(np.bincount(rings), 1)
    r = np.arange(len(profile))
    usable = (r >= 2) & (r <= side // 2)
    signal = np.where(usable, (profile - noise * noise) * (r / side) ** 2, 0.0)
    best = int(np.argmax(signal))
    return float(side / best) if signal[best] > 0 else float("nan")
