"""Pure-torch definition of the fused degradation op (the semantics the kernels must match).

Slow and simple on purpose: float64, one sample at a time, library primitives where they
exist (``affine_grid``/``grid_sample`` for the bilinear warp, ``conv2d`` for the blur).
The random numbers are the kernels' own Philox words, computed here in pure torch
(:func:`philox_words`, checked against the native kernel), so the reference reproduces the
noise exactly, not just in distribution -- and runs on any device without ``emkit._C``:
it is also the fallback path of :func:`emkit.ops.degrade_pair` on a GPU where emkit's CUDA
kernels fail their first-use self-check (see :mod:`emkit.ops.dispatch`).

Semantics, per sample ``b`` with parameters ``cx, cy, angle, scale, flip, sigma, noise,
dose`` (see :data:`emkit.ops.PARAM_COLUMNS`) and output size ``H x W``:

1. **Warp.** Output pixel ``(i, j)`` -> centred ``x = j + 0.5 - W/2``, ``y = i + 0.5 - H/2``;
   ``x = -x`` if ``flip >= 0.5``; ``u = cx + scale*(cos(angle)*x - sin(angle)*y)``,
   ``v = cy + scale*(sin(angle)*x + cos(angle)*y)`` in input pixels whose centres are at
   ``k + 0.5``. Bilinear sampling at ``(u, v)`` of the input extended by half-sample
   symmetric reflection (pixel ``-1-k`` = pixel ``k``, pixel ``n+k`` = pixel ``n-1-k``) ==
   ``grid_sample(mode="bilinear", padding_mode="reflection", align_corners=False)``.
   Nearest channels: pixel ``floor(u - 0.5 + 0.5)`` of the same extension (ties round up).
   Integer inputs are scaled to [0, 1] (1/255, 1/65535). First, ``cx`` and ``cy`` are
   clamped to ``[-2**30, 2**30]`` and ``scale`` to ``[-1024, 1024]`` (infinite values too;
   the kernels' ``make_sample_setup``), so absurd parameters still give finite coordinates.
   A NaN coordinate (NaN geometry parameters) samples index coordinate 0 on its axis, as
   the kernels' ``sanitize_coord``.
2. **Blur** (degrade channels, ``sigma > 0``): ``sigma = min(sigma, 5)``, radius
   ``r = ceil(3*sigma)``, taps ``exp(-k^2/(2 sigma^2))`` normalised (rounded to float32 like
   the kernels). The warp of step 1 is evaluated on the enlarged canvas ``(H+2r) x (W+2r)``
   (same centre), so the halo comes from the input, and blurred with a "valid" separable
   convolution back to ``H x W``.
3. **Poisson** (``dose > 0``): ``Poisson(dose * max(v, 0)) / dose`` with
   :func:`poisson_reference`.
4. **Gaussian** (``noise > 0``): ``v + noise * z`` with :func:`gaussian_reference`.
5. No clamping. The clean output is step 1 alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

GAUSSIAN_STREAM = 1
POISSON_STREAM = 2
MAX_BLUR_SIGMA = 5.0
POISSON_INVERSION_BELOW = 10.0
POISSON_MAX_GROUPS = 16

#: Geometry clamps applied before anything else (degrade_math.h: kMaxCentre, kMaxScale).
MAX_CENTRE = 2.0**30
MAX_SCALE = 1024.0
_SCALES = {torch.uint8: 1.0 / 255.0, torch.uint16: 1.0 / 65535.0, torch.float32: 1.0}
_MASK32 = 0xFFFFFFFF
_PHILOX_M = (0xD2511F53, 0xCD9E8D57)
_PHILOX_W = (0x9E3779B9, 0xBB67AE85)


def _mulhilo(a: int, x: Tensor) -> tuple[Tensor, Tensor]:
    """(high, low) 32-bit words of ``a * x`` for 32-bit values in int64 tensors (16-bit limbs)."""
    p0 = a * (x & 0xFFFF)
    p1 = a * (x >> 16)
    mid = p0 + ((p1 & 0xFFFF) << 16)
    return ((p1 >> 16) + (mid >> 32)) & _MASK32, mid & _MASK32


def philox_words(n: int, seed: int, *, stream: int, offset: int, device: torch.device | str = "cpu") -> Tensor:
    """``n`` Philox4x32-10 words (int64 in [0, 2**32)) in the layout of :func:`emkit.ops.philox_uint32`.

    Pure torch, so it runs on any device without the native extension: word ``i`` is word
    ``i % 4`` of ``philox(seed, stream, offset + i // 4)``.
    """
    blocks = (n + 3) // 4
    idx = torch.arange(blocks, dtype=torch.int64, device=device) + int(offset)
    c0, c1 = idx & _MASK32, (idx >> 32) & _MASK32
    c2 = torch.full_like(idx, int(stream) & _MASK32)
    c3 = torch.zeros_like(idx)
    seed = int(seed) % 2**64
    k0, k1 = seed & _MASK32, seed >> 32
    for r in range(10):
        if r > 0:
            k0, k1 = (k0 + _PHILOX_W[0]) & _MASK32, (k1 + _PHILOX_W[1]) & _MASK32
        hi0, lo0 = _mulhilo(_PHILOX_M[0], c0)
        hi1, lo1 = _mulhilo(_PHILOX_M[1], c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return torch.stack([c0, c1, c2, c3], -1).reshape(-1)[:n]


def blur_radius(sigma: float) -> int:
    """Blur radius of a sample: ``ceil(3 * min(sigma, 5))``, 0 when ``sigma <= 0``."""
    return math.ceil(3.0 * min(sigma, MAX_BLUR_SIGMA)) if sigma > 0 else 0


def blur_taps(sigma: float) -> Tensor:
    """Normalised Gaussian taps ``w[0..2r]`` (float64 holding float32-rounded values)."""
    s = min(sigma, MAX_BLUR_SIGMA)
    r = blur_radius(s)
    k = torch.arange(-r, r + 1, dtype=torch.float64)
    w = torch.exp(-(k * k) / (2.0 * s * s))
    return (w / w.sum()).to(torch.float32).to(torch.float64)


def _clamp_keep_nan(x: float, limit: float) -> float:
    return -limit if x < -limit else (limit if x > limit else x)


def geometry(p: Tensor) -> tuple[float, float, float, float, float]:
    """``(cx, cy, cos(angle)*scale, sin(angle)*scale, flip sign)`` of a parameter row.

    Centre and scale are clamped (NaN kept); an infinite angle gives NaN, as in C.
    """
    cx, cy, angle, scale, flip = (float(v) for v in p[:5])
    scale = _clamp_keep_nan(scale, MAX_SCALE)
    c = math.cos(angle) * scale if math.isfinite(angle) else math.nan
    s = math.sin(angle) * scale if math.isfinite(angle) else math.nan
    return (_clamp_keep_nan(cx, MAX_CENTRE), _clamp_keep_nan(cy, MAX_CENTRE), c, s, -1.0 if flip >= 0.5 else 1.0)


def _theta(p: Tensor, in_h: int, in_w: int, ch: int, cw: int) -> Tensor:
    """affine_grid matrix mapping a ``ch x cw`` canvas (centred like the output) to the input."""
    cx, cy, c, s, f = geometry(p)
    return torch.tensor(
        [[c * f * cw / in_w, -s * ch / in_w, 2.0 * cx / in_w - 1.0],
         [s * f * cw / in_h, c * ch / in_h, 2.0 * cy / in_h - 1.0]],
        dtype=torch.float64,
    ).unsqueeze(0)


def _sanitize_grid(grid: Tensor, in_h: int, in_w: int) -> Tensor:
    """NaN grid coordinates -> the centre of pixel 0 on that axis (the kernels' sanitize_coord)."""
    zero = torch.tensor([-1.0 + 1.0 / in_w, -1.0 + 1.0 / in_h], dtype=grid.dtype, device=grid.device)
    return torch.where(torch.isnan(grid), zero.expand_as(grid), grid)


def reflect_index(k: Tensor, n: int) -> Tensor:
    """Half-sample symmetric reflection of integer indices into ``[0, n)`` (period ``2n``)."""
    m = torch.remainder(k, 2 * n)
    return torch.where(m < n, m, 2 * n - 1 - m)


def _warp_nearest(img: Tensor, p: Tensor, ch: int, cw: int) -> Tensor:
    """Nearest sampling of ``img`` (C, Hin, Win) on a ``ch x cw`` canvas, by explicit gather."""
    in_h, in_w = img.shape[-2:]
    cx, cy, c, s, f = geometry(p)
    x = (torch.arange(cw, dtype=torch.float64, device=img.device) + 0.5 - cw / 2.0) * f
    y = torch.arange(ch, dtype=torch.float64, device=img.device) + 0.5 - ch / 2.0
    u = torch.nan_to_num(cx - 0.5 + c * x[None, :] - s * y[:, None], nan=0.0)
    v = torch.nan_to_num(cy - 0.5 + s * x[None, :] + c * y[:, None], nan=0.0)
    xi = reflect_index(torch.floor(u + 0.5).long(), in_w)
    yi = reflect_index(torch.floor(v + 0.5).long(), in_h)
    return img[:, yi, xi]


def warp_reference(img: Tensor, p: Tensor, ch: int, cw: int, nearest: Sequence[bool]) -> Tensor:
    """Warp one sample ``img`` (C, Hin, Win, float64 in [0, 1]) onto a ``ch x cw`` canvas."""
    in_h, in_w = img.shape[-2:]
    theta = _theta(p, in_h, in_w, ch, cw).to(img.device)
    grid = _sanitize_grid(F.affine_grid(theta, [1, img.shape[0], ch, cw], align_corners=False), in_h, in_w)
    out = F.grid_sample(img[None], grid, mode="bilinear", padding_mode="reflection", align_corners=False)[0]
    for k, is_nearest in enumerate(nearest):
        if is_nearest:
            out[k] = _warp_nearest(img[k : k + 1], p, ch, cw)[0]
    return out


def _open_unit_f32(words: Tensor) -> Tensor:
    """``uint32_to_open_unit``: ((w >> 8) + 0.5) / 2^24 computed in float32, as the kernels do."""
    return (((words >> 8).to(torch.float32) + 0.5) * (1.0 / 16777216.0)).to(torch.float64)


def _open_unit_f64(words: Tensor) -> Tensor:
    return (words.to(torch.float64) + 0.5) * 2.0**-32


def gaussian_reference(seed: int, plane: int, h: int, w: int, device: torch.device | str = "cpu") -> Tensor:
    """The ``h x w`` standard normals of plane ``plane`` (= b*C + c), float64."""
    wb = (w + 3) // 4
    words = philox_words(4 * h * wb, seed, stream=GAUSSIAN_STREAM, offset=plane * h * wb, device=device).view(h, wb, 4)
    u = _open_unit_f32(words)
    r01 = torch.sqrt(-2.0 * torch.log(u[..., 0]))
    r23 = torch.sqrt(-2.0 * torch.log(u[..., 2]))
    t01, t23 = 2.0 * math.pi * u[..., 1], 2.0 * math.pi * u[..., 3]
    z = torch.stack([r01 * torch.cos(t01), r01 * torch.sin(t01), r23 * torch.cos(t23), r23 * torch.sin(t23)], -1)
    return z.reshape(h, 4 * wb)[:, :w]


def poisson_reference(lam: Tensor, seed: int, first_index: int) -> Tensor:
    """Poisson draws (int64) for rates ``lam`` (float64, flat) at element indices ``first_index + k``.

    Mean < 10: inversion by sequential search with word 0 of block ``g = 0``. Mean >= 10:
    Hormann's PTRS, two attempts per Philox block ``(g << 40) + index`` for g = 0..15,
    ``U`` from words 0/2 and ``V`` from words 1/3; if all fail, ``floor(lam)``.
    Mean <= 0 or NaN: 0; mean >= 1e15: ``floor(lam)``.
    """
    lam = lam.to(torch.float64).flatten()
    n = lam.numel()
    out = torch.zeros(n, dtype=torch.int64, device=lam.device)
    if n == 0:
        return out
    lam0 = torch.where(torch.isnan(lam), torch.zeros_like(lam), lam)
    huge = lam0 >= 1e15
    out[huge] = lam0[huge].floor().long()

    def words(g: int) -> Tensor:
        return philox_words(4 * n, seed, stream=POISSON_STREAM, offset=(g << 40) + first_index,
                            device=lam.device).view(n, 4)

    small = (lam0 > 0) & (lam0 < POISSON_INVERSION_BELOW)
    if small.any():
        u = _open_unit_f64(words(0)[:, 0])
        p = torch.exp(-lam0)
        s = p.clone()
        k = torch.zeros(n, dtype=torch.int64, device=lam.device)
        for _ in range(200):
            active = small & (u > s)
            if not active.any():
                break
            k = k + active.long()
            p = torch.where(active, p * (lam0 / k.clamp(min=1).double()), p)
            s = torch.where(active, s + p, s)
        out[small] = k[small]

    large = (lam0 >= POISSON_INVERSION_BELOW) & ~huge
    if large.any():
        lam_l = torch.where(large, lam0, torch.full_like(lam0, 100.0))
        slam, loglam = lam_l.sqrt(), lam_l.log()
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2.0)
        pending = large.clone()
        for g in range(POISSON_MAX_GROUPS):
            if not pending.any():  # every rate accepted: later groups would change nothing
                break
            wg = words(g)
            for t in range(2):
                U = _open_unit_f64(wg[:, 2 * t]) - 0.5
                V = _open_unit_f64(wg[:, 2 * t + 1])
                us = 0.5 - U.abs()
                kf = torch.floor((2.0 * a / us + b) * U + lam_l + 0.43)
                quick = (us >= 0.07) & (V <= vr)
                reject = (kf < 0) | ((us < 0.013) & (V > us))
                lhs = torch.log(V) + torch.log(invalpha) - torch.log(a / (us * us) + b)
                rhs = -lam_l + kf * loglam - torch.lgamma(kf.clamp(min=0) + 1.0)
                accept = pending & (quick | (~reject & (lhs <= rhs)))
                out[accept] = kf[accept].long()
                pending &= ~accept
        out[pending] = lam0[pending].floor().long()
    return out


def reference_degrade(
    images: Tensor,
    params: Tensor,
    output_size: tuple[int, int],
    seed: int,
    *,
    degrade_channels: Sequence[bool] | None = None,
    nearest_channels: Sequence[bool] | None = None,
    noise: bool = True,
) -> tuple[Tensor, Tensor]:
    """Reference ``(clean, degraded)`` as float64 tensors of shape ``(B, C, H, W)`` on ``images``' device.

    ``degraded`` follows :func:`emkit.ops.warp_and_degrade` (non-degrade channels are the
    clean warp); with the default flags it is :func:`emkit.ops.degrade_pair`'s second
    output. ``noise=False`` skips both noise sources (geometry + blur only). ``seed`` is
    taken modulo 2**64 (the ops store seeds >= 2**63 as negative int64).
    """
    device = images.device
    seed = int(seed) % 2**64
    params = params.detach().cpu().to(torch.float64)
    bsz, chans = images.shape[:2]
    h, w = output_size
    nearest = list(nearest_channels) if nearest_channels is not None else [False] * chans
    degrade = list(degrade_channels) if degrade_channels is not None else [not n for n in nearest]
    degrade = [d and not n for d, n in zip(degrade, nearest)]
    x = images.to(torch.float64) * _SCALES[images.dtype]
    clean = torch.empty(bsz, chans, h, w, dtype=torch.float64, device=device)
    degraded = torch.empty_like(clean)
    for b in range(bsz):
        p = params[b]
        sigma, std, dose = float(p[5]), float(p[6]), float(p[7])
        r = blur_radius(sigma)
        canvas = warp_reference(x[b], p, h + 2 * r, w + 2 * r, nearest)
        clean[b] = canvas[:, r : r + h, r : r + w]
        degraded[b] = clean[b]
        for c in range(chans):
            if not degrade[c]:
                continue
            v = canvas[c]
            if r > 0:
                taps = blur_taps(sigma).to(device)
                v = F.conv2d(v[None, None], taps.view(1, 1, 1, -1))
                v = F.conv2d(v, taps.view(1, 1, -1, 1))[0, 0]
            plane = b * chans + c
            if noise and dose > 0:
                lam = dose * v.clamp(min=0)
                v = poisson_reference(lam, seed, plane * h * w).view(h, w).to(torch.float64) / dose
            if noise and std > 0:
                v = v + std * gaussian_reference(seed, plane, h, w, device)
            degraded[b, c] = v
    return clean, degraded
