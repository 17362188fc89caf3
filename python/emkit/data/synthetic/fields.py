"""Vectorised building blocks of the synthetic image generators.

Everything is numpy and works on whole
images at once: random smooth fields from small grids, Gaussian blurs as one FFT
multiply, and "splatting" of many point-like objects with ``np.bincount`` instead of a
Python loop per object. Randomness always comes from a ``numpy.random.Generator`` built
by ``rng_for`` from (seed, generator salt, split, index), so sample ``i`` of a synthetic
dataset is the same on every machine, in every worker, in any order.
"""

from __future__ import annotations

import functools
import zlib

import numpy as np

SPLIT_STREAMS = {"train": 0, "val": 1, "test": 2}


def rng_for(seed: int, salt: str, split: str, index: int) -> np.random.Generator:
    """The generator of one sample: independent across seeds, generators, splits, indices."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(salt.encode()), SPLIT_STREAMS[split], int(index)])


@functools.lru_cache(maxsize=16)
def freq2(h: int, w: int) -> np.ndarray:
    """Squared spatial frequency (cycles/pixel) on the ``rfft2`` grid of an (h, w) image."""
    fy = np.fft.fftfreq(h).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(w).astype(np.float32)[None, :]
    return fy * fy + fx * fx


@functools.lru_cache(maxsize=16)
def _freqs(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    return (np.fft.fftfreq(h).astype(np.float32) ** 2, np.fft.rfftfreq(w).astype(np.float32) ** 2)


def gaussian_transfer(h: int, w: int, sigma: float) -> np.ndarray:
    """Fourier transfer function of a unit-integral Gaussian of std ``sigma`` pixels.

    Separable: the outer product of two 1-D transfers (two small ``exp`` calls).
    """
    fy2, fx2 = _freqs(h, w)
    c = np.float32(-2.0 * np.pi**2 * sigma * sigma)
    return np.exp(c * fy2)[:, None] * np.exp(c * fx2)[None, :]


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (periodic boundary) by one FFT multiply; float32."""
    if sigma <= 0:
        return img.astype(np.float32, copy=False)
    h, w = img.shape
    return np.fft.irfft2(np.fft.rfft2(img) * gaussian_transfer(h, w, sigma), s=(h, w)).astype(np.float32)


@functools.lru_cache(maxsize=64)
def _taps(n_in: int, n_out: int, mode: str) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """(source index, weight) per tap for resampling n_in -> n_out samples.

    Half-pixel centres (like ``align_corners=False``), edges clamped; "cubic" is Keys'
    cubic convolution with a = -0.5.
    """
    x = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    if mode == "nearest":
        idx = np.clip(np.floor((np.arange(n_out) + 0.5) * n_in / n_out), 0, n_in - 1).astype(np.intp)
        return ((idx, np.ones(n_out, np.float32)),)
    x0 = np.floor(x).astype(np.intp)
    t = (x - x0).astype(np.float32)
    if mode == "bilinear":
        weights = {0: 1 - t, 1: t}
    else:
        a = -0.5

        def k(d: np.ndarray) -> np.ndarray:
            d = np.abs(d)
            return np.where(d <= 1, (a + 2) * d**3 - (a + 3) * d**2 + 1,
                            np.where(d < 2, a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a, 0.0)).astype(np.float32)

        weights = {o: k(t - o) for o in (-1, 0, 1, 2)}
    return tuple((np.clip(x0 + o, 0, n_in - 1), w.astype(np.float32)) for o, w in weights.items())


@functools.lru_cache(maxsize=64)
def _matrix(n_in: int, n_out: int, mode: str) -> np.ndarray:
    """The (n_out, n_in) resampling matrix equivalent to ``_taps``."""
    m = np.zeros((n_out, n_in), np.float32)
    rows = np.arange(n_out)
    for idx, wt in _taps(n_in, n_out, mode):
        np.add.at(m, (rows, idx), wt)
    return m


def _up2_axis0(a: np.ndarray) -> np.ndarray:
    """Exact 2x bilinear upsampling (half-pixel centres, clamped edges) along axis 0."""
    p = np.concatenate([a[:1], a, a[-1:]], axis=0)
    out = np.empty((2 * a.shape[0],) + a.shape[1:], np.float32)
    out[0::2] = 0.75 * p[1:-1] + 0.25 * p[:-2]
    out[1::2] = 0.75 * p[1:-1] + 0.25 * p[2:]
    return out


def resize(field: np.ndarray, h: int, w: int, mode: str = "bicubic") -> np.ndarray:
    """Resize a 2-D field to (h, w): "bicubic", "bilinear" or "nearest".

    Small inputs (the random grids of smooth fields) use two tiny matrix products; large
    ones use gathers or, for exact 2x bilinear, shifted averages -- big BLAS calls would
    start thread pools that oversubscribe the CPU inside DataLoader workers.
    """
    kind = "cubic" if mode == "bicubic" else mode
    f = np.asarray(field, dtype=np.float32)
    gh, gw = f.shape
    if gh <= 32 and gw <= 32:
        return _matrix(gh, h, kind) @ f @ _matrix(gw, w, kind).T
    if kind == "bilinear" and h == 2 * gh and w == 2 * gw:
        return _up2_axis0(_up2_axis0(f).T).T
    rows = None
    for idx, wt in _taps(gh, h, kind):
        term = f[idx] * wt[:, None]
        rows = term if rows is None else rows + term
    out = None
    for idx, wt in _taps(gw, w, kind):
        term = rows[:, idx] * wt[None, :]
        out = term if out is None else out + term
    return out


def smooth_noise(rng: np.random.Generator, h: int, w: int, cells: float) -> np.ndarray:
    """Random smooth field with about ``cells`` bumps across the longer side (std ~0.6).

    A small grid of normal values resized bicubically straight to (h, w): cost is the
    resize of the output, independent of the smoothness.
    """
    c = max(float(cells), 0.5)
    gh = max(2, int(np.ceil(c * h / max(h, w))) + 1)
    gw = max(2, int(np.ceil(c * w / max(h, w))) + 1)
    return resize(rng.standard_normal((gh, gw)).astype(np.float32), h, w)


def splat(h: int, w: int, ys: np.ndarray, xs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Deposit ``weights`` at sub-pixel positions with bilinear weights (one bincount)."""
    y0 = np.floor(ys).astype(np.int64)
    x0 = np.floor(xs).astype(np.int64)
    fy = (ys - y0).astype(np.float32)
    fx = (xs - x0).astype(np.float32)
    out = np.zeros(h * w, dtype=np.float64)
    for dy, dx, wt in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        yy, xx = y0 + dy, x0 + dx
        ok = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        out += np.bincount((yy[ok] * w + xx[ok]), weights=(weights[ok] * wt[ok]), minlength=h * w)
    return out.reshape(h, w).astype(np.float32)


def paste_patches(h: int, w: int, patches: np.ndarray, tops: np.ndarray, lefts: np.ndarray) -> np.ndarray:
    """Sum same-sized (N, P, P) patches into an (h, w) image at integer corners (clipped)."""
    n, ph, pw = patches.shape
    if n == 0:
        return np.zeros((h, w), np.float32)
    yy = tops[:, None, None] + np.arange(ph)[None, :, None]
    xx = lefts[:, None, None] + np.arange(pw)[None, None, :]
    yy, xx = np.broadcast_to(yy, patches.shape), np.broadcast_to(xx, patches.shape)
    ok = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
    flat = np.bincount(yy[ok] * w + xx[ok], weights=patches[ok], minlength=h * w)
    return flat.reshape(h, w).astype(np.float32)


def bandpass_noise(rng: np.random.Generator, h: int, w: int, period: float, width: float = 0.35) -> np.ndarray:
    """White noise filtered to a ring of spatial periods around ``period`` pixels (unit std)."""
    f0 = 1.0 / period
    f = np.sqrt(freq2(h, w))
    ring = np.exp(-0.5 * ((f - f0) / (width * f0)) ** 2).astype(np.float32)
    spec = np.fft.rfft2(rng.standard_normal((h, w)).astype(np.float32)) * ring
    out = np.fft.irfft2(spec, s=(h, w)).astype(np.float32)
    return out / (out.std() + 1e-8)


@functools.lru_cache(maxsize=4)
def _noise_bank(n: int) -> np.ndarray:
    return np.random.default_rng(0x0B5E).standard_normal((n, n), dtype=np.float32)


def white_noise(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Unit Gaussian white noise: a random crop (and flip/sign) of a cached noise bank.

    Drawing 65k normals costs ~1 ms; a crop of a fixed 4x larger bank costs nothing and
    is just as white (different offsets share no pixels in the same image).
    """
    n = 4 * max(h, w)
    bank = _noise_bank(n)
    oy = int(rng.integers(0, n - h + 1))
    ox = int(rng.integers(0, n - w + 1))
    out = bank[oy : oy + h, ox : ox + w]
    if rng.random() < 0.5:
        out = out.T if h == w else out[::-1]
    return out if rng.random() < 0.5 else -out


def to_uint8(img: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> uint8 with rounding and clipping."""
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)


def stretch(img: np.ndarray, low: float = 0.0, high: float = 100.0) -> np.ndarray:
    """Map the ``[low, high]`` percentiles of ``img`` to [0, 1] (min/max when 0/100)."""
    if low <= 0 and high >= 100:
        lo, hi = float(img.min()), float(img.max())
    else:
        lo, hi = (float(v) for v in np.percentile(img, [low, high]))
    return np.clip((img - lo) / max(hi - lo, 1e-8), 0.0, 1.0).astype(np.float32)
