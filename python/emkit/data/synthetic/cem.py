"""Synthetic cellular EM (heavy-metal stained sections, CEM500K-like) for pretraining.

What the generator draws, in stain convention (membranes dark on a light cytoplasm):

* **cells**: a warped Worley/Voronoi tessellation -- from neuropil-like mosaics of many
  small profiles to a few large cells -- with dark membranes at the cell borders, a
  per-cell shade, and, in some profiles, thick dark myelin-like sheaths;
* **cytoplasm**: granular band-pass texture at two scales plus ribosome-like dark dots;
* **organelles**: mitochondria (elliptical, double dark membrane, darker matrix, cristae
  stripes), vesicle clusters (small rings), occasional nuclei (large lighter body with a
  double envelope and dark heterochromatin clumps), ER (short paired dark lines) and
  dense granules;
* **imaging**: magnification (every length scales together), PSF blur, contrast and
  brightness, Gaussian + shot-like noise, and in some images inverted contrast (as in
  backscatter SEM data).

``render_cem_with_mask`` also returns the mitochondria mask (the ground truth of the
``synthetic-cem`` segmentation target), at no change to the image.

Everything is vectorised: the tessellation is computed on a half-resolution grid from
the 3x3 neighbouring seeds only, organelles are batched patches summed with one
``bincount``, and the blur is one FFT. 256x256 costs about 3 ms on one CPU core.
"""

from __future__ import annotations

import functools

import numpy as np

from emkit.data.synthetic.fields import (
    bandpass_noise,
    blur,
    paste_patches,
    resize,
    smooth_noise,
    splat,
    to_uint8,
    white_noise,
)


@functools.lru_cache(maxsize=4)
def _texture_bank(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Two cached (2 size)^2 band-pass textures (fine, medium grain), fixed seed.

    Random crops, flips and sign changes of these give every image its own cytoplasm
    texture without paying for an FFT of fresh noise each time.
    """
    rng = np.random.default_rng(0xCE3)
    n = 2 * size
    fine = bandpass_noise(rng, n, n, period=3.0, width=0.5)
    medium = bandpass_noise(rng, n, n, period=9.0, width=0.6)
    return fine, medium


def _crop(rng: np.random.Generator, bank: np.ndarray, h: int, w: int) -> np.ndarray:
    oy = int(rng.integers(0, bank.shape[0] - h))
    ox = int(rng.integers(0, bank.shape[1] - w))
    out = bank[oy : oy + h, ox : ox + w]
    if rng.random() < 0.5:
        out = out[::-1]
    if rng.random() < 0.5:
        out = out[:, ::-1]
    return out if rng.random() < 0.5 else -out


def _worley(rng: np.random.Generator, n: int, cell: float, warp: float):
    """(d2 - d1, label) of a jittered-grid Voronoi tessellation on an n x n grid.

    One seed per grid cell of ``cell`` pixels; each pixel compares only the seeds of its
    3x3 neighbouring cells (squared distances, flat ``take`` gathers), so the cost does
    not grow with the number of cells. ``warp`` displaces the sampling coordinates with
    a smooth field, which bends the straight Voronoi edges into membrane-like curves.
    """
    g = int(np.ceil(n / cell)) + 2
    stride = g + 2
    jy = rng.uniform(0.1, 0.9, stride * stride).astype(np.float32)
    jx = rng.uniform(0.1, 0.9, stride * stride).astype(np.float32)
    gy, gx = _grid(n)
    gy = gy / np.float32(cell)
    gx = gx / np.float32(cell)
    if warp > 0:
        gy = gy + np.float32(warp / cell) * smooth_noise(rng, n, n, n / (2.5 * cell))
        gx = gx + np.float32(warp / cell) * smooth_noise(rng, n, n, n / (2.5 * cell))
    fy = np.floor(gy)
    fx = np.floor(gx)
    ry, rx = gy - fy, gx - fx  # position inside the cell
    base = (np.clip(fy, -1, g - 1).astype(np.int32) + 1) * stride + np.clip(fx, -1, g - 1).astype(np.int32) + 1
    d1 = np.full((n, n), np.inf, np.float32)
    d2 = np.full((n, n), np.inf, np.float32)
    best = np.zeros((n, n), np.int32)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            idx = base + (dy * stride + dx)
            sy = np.take(jy, idx) + np.float32(dy) - ry
            sx = np.take(jx, idx) + np.float32(dx) - rx
            d = sy * sy + sx * sx
            d2 = np.minimum(d2, np.maximum(d1, d))
            closer = d < d1
            d1 = np.minimum(d1, d)
            best[closer] = idx[closer]
    return (np.sqrt(d2) - np.sqrt(d1)) * np.float32(cell), best


@functools.lru_cache(maxsize=8)
def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:n, 0:n].astype(np.float32)
    return y, x


def _ellipse_patches(rng, n: int, a: np.ndarray, b: np.ndarray, theta: np.ndarray, pad: int = 4):
    """Local coordinates of n rotated ellipses on (n, P, P) patches: (u, v, rho, P)."""
    p = int(np.ceil(2 * a.max())) + 2 * pad if n else 1
    c = (p - 1) / 2.0
    yy, xx = np.mgrid[0:p, 0:p].astype(np.float32)
    yy, xx = yy[None] - c, xx[None] - c
    ct, st = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    u = ct * xx + st * yy
    v = -st * xx + ct * yy
    rho = np.sqrt((u / a[:, None, None]) ** 2 + (v / b[:, None, None]) ** 2)
    return u, v, rho, p


def _ring(rho: np.ndarray, radius_px: np.ndarray, width: float) -> np.ndarray:
    """Thin ring profile at rho = 1 on patches, ``width`` in pixels."""
    return np.exp(-(((rho - 1.0) * radius_px) / width) ** 2)


def _cells(rng: np.random.Generator, img: np.ndarray, s: int, zoom: float, neuropil: bool) -> None:
    """Cytoplasm texture, then cells: a tessellation on a half-resolution grid, membranes
    at full resolution (added to ``img`` in place)."""
    fine, medium = _texture_bank(s)
    img += rng.uniform(0.03, 0.08) * _crop(rng, fine, s, s)
    img += rng.uniform(0.01, 0.05) * _crop(rng, medium, s, s)
    img += rng.uniform(0.0, 0.05) * smooth_noise(rng, s, s, 3)
    half = s // 2
    cell_px = (rng.uniform(18, 45) if neuropil else rng.uniform(60, 160)) * zoom
    gap_half, label = _worley(rng, half, cell_px / 2, warp=rng.uniform(0.2, 0.5) * cell_px / 2)
    n_labels = int(label.max()) + 1
    shade = rng.normal(0.0, 0.05 if neuropil else 0.03, n_labels).astype(np.float32)
    cells = shade[label]
    if neuropil:  # myelinated profiles: thick dark sheath along the inner border
        thick = rng.uniform(2, 5, n_labels).astype(np.float32) * min(zoom, 1.4)
        thick[rng.random(n_labels) > 0.12] = 0
        cells -= 0.4 * np.clip(thick[label] - gap_half, 0.0, 1.0)
    img += resize(cells, s, s, "bilinear")
    gap = resize(gap_half, s, s, "bilinear")
    mem_w = np.float32(rng.uniform(0.8, 1.6) * max(zoom, 0.8))
    img -= np.float32(rng.uniform(0.25, 0.45)) * np.exp(-np.square(gap / (2 * mem_w)))


def _mitochondria(rng: np.random.Generator, deltas: np.ndarray, s: int, zoom: float, neuropil: bool) -> np.ndarray:
    """Batched elliptical patches with cristae and a double membrane (added to ``deltas``).

    Returns the mitochondria mask (bool (s, s), True inside an outer membrane). It is
    derived from the same patches, without drawing from ``rng``, so asking for it leaves
    the image unchanged.
    """
    m = int(rng.integers(0, 4 if neuropil else 7))
    if not m:
        return np.zeros((s, s), bool)
    a = (rng.uniform(9, 24, m) * zoom).astype(np.float32)
    b = (a * rng.uniform(0.35, 0.75, m)).astype(np.float32)
    theta = rng.uniform(0, np.pi, m).astype(np.float32)
    u, v, rho, p = _ellipse_patches(rng, m, a, b, theta)
    inside = np.clip((1.0 - rho) * b[:, None, None] / 1.2, 0.0, 1.0)
    period = (rng.uniform(4.0, 7.0, m) * zoom)[:, None, None]
    cristae = np.cos(2 * np.pi * u / period + 1.5 * np.sin(v / (b[:, None, None] + 1e-3) * 2.0))
    cristae = np.clip((cristae - 0.4) * 3.0, 0.0, 1.0) * (rho < 0.8)
    matrix = -rng.uniform(0.12, 0.25, m)[:, None, None].astype(np.float32)
    mdelta = inside * (matrix + 0.18 * cristae) - 0.35 * _ring(rho, b[:, None, None], 1.1)
    mdelta -= 0.25 * _ring(rho, b[:, None, None] - 2.2, 0.9) * (rho < 1)
    tops = rng.integers(-p // 2, s - p // 2, m)
    lefts = rng.integers(-p // 2, s - p // 2, m)
    deltas += paste_patches(s, s, mdelta.astype(np.float32), tops, lefts)
    return paste_patches(s, s, (rho < 1).astype(np.float32), tops, lefts) > 0.5


def _vesicles(rng: np.random.Generator, deltas: np.ndarray, s: int, zoom: float, neuropil: bool) -> None:
    """Clusters of small rings (added to ``deltas``)."""
    clusters = int(rng.integers(0, 4 if neuropil else 3))
    if not clusters:
        return
    counts = rng.integers(4, 30, clusters)
    nv = int(counts.sum())
    centers = rng.uniform(0, s, (clusters, 2))
    spread = rng.uniform(8, 25, clusters) * zoom
    owner = np.repeat(np.arange(clusters), counts)
    pos = centers[owner] + rng.normal(0, 1, (nv, 2)) * spread[owner, None]
    r = (rng.uniform(2.5, 5.5, nv) * zoom).astype(np.float32)
    ones = np.zeros(nv, np.float32)
    _, _, rho, p = _ellipse_patches(rng, nv, r, r, ones, pad=3)
    vdelta = -0.3 * _ring(rho, r[:, None, None], 0.9) + 0.06 * (rho < 0.8)
    deltas += paste_patches(s, s, vdelta.astype(np.float32), pos[:, 0].astype(int) - p // 2, pos[:, 1].astype(int) - p // 2)


def _nucleus(rng: np.random.Generator, img: np.ndarray, deltas: np.ndarray, s: int, zoom: float) -> None:
    """A large lighter body with envelope and heterochromatin (shape at half resolution)."""
    half = s // 2
    cy, cx = rng.uniform(0.1, 0.9, 2) * half
    rad = rng.uniform(0.2, 0.45) * half * zoom**0.5
    y, x = _grid(half)
    ang = np.arctan2(y - cy, x - cx)
    wob = 1 + sum(rng.normal(0, 0.06 / k) * np.cos(k * ang + rng.uniform(0, 6.3)) for k in (2, 3, 4))
    rho = resize(np.sqrt((y - cy) ** 2 + (x - cx) ** 2) / (rad * wob), s, s, "bilinear")
    rad *= 2
    inside = np.clip((1 - rho) * np.float32(rad / 2.0), 0, 1)
    chrom = np.clip(smooth_noise(rng, s, s, 10 / zoom) * 1.5 + 2.5 * (rho - 0.8), 0, 1)
    img *= 1 - 0.7 * inside  # the nucleus hides the cell borders behind it
    img += inside * (0.7 * 0.62 + 0.06 - 0.22 * chrom)
    for off in (0.0, 3.0 * zoom):
        deltas -= 0.3 * np.exp(-np.square((rho - 1.0) * np.float32(rad) + np.float32(off)) / np.float32(1.44))


def _points(rng: np.random.Generator, s: int, zoom: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, x, weight) of splatted points: ER (paired dark lines along smooth random
    curves), ribosome-like dots and dense granules."""
    points_y: list[np.ndarray] = []
    points_x: list[np.ndarray] = []
    points_w: list[np.ndarray] = []
    for _ in range(int(rng.integers(0, 6))):
        steps = int(rng.integers(60, 240))
        heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.08, steps))
        py = rng.uniform(0, s) + np.cumsum(0.7 * np.sin(heading))
        px = rng.uniform(0, s) + np.cumsum(0.7 * np.cos(heading))
        sep = rng.uniform(1.5, 3.5) * zoom
        for sign in (-1, 1):
            points_y.append(py + sign * sep * np.cos(heading))
            points_x.append(px - sign * sep * np.sin(heading))
            points_w.append(np.full(steps, -0.45, np.float32))
    ndots = int(rng.integers(50, 600))
    points_y.append(rng.uniform(0, s, ndots))
    points_x.append(rng.uniform(0, s, ndots))
    points_w.append(-rng.uniform(0.4, 1.2, ndots).astype(np.float32))
    if rng.random() < 0.3:
        ng = int(rng.integers(1, 6))
        points_y.append(rng.uniform(0, s, ng))
        points_x.append(rng.uniform(0, s, ng))
        points_w.append(np.full(ng, -12.0 * zoom, np.float32))
    return np.concatenate(points_y), np.concatenate(points_x), np.concatenate(points_w)


def render_cem(rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """One synthetic cellular-EM image, uint8 (size, size)."""
    return render_cem_with_mask(rng, size)[0]


def render_cem_with_mask(rng: np.random.Generator, size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(image uint8 (size, size), mitochondria mask uint8 (size, size), 1 = mitochondrion).

    The image is the one ``render_cem`` draws from the same ``rng`` state; the mask marks
    every pixel inside a mitochondrion's outer membrane (they are drawn on top of the
    cells, nuclei and vesicles, so none is hidden).
    """
    s = int(size)
    zoom = float(np.exp(rng.uniform(np.log(0.6), np.log(1.8))))
    neuropil = rng.random() < 0.55
    img = np.full((s, s), 0.62, np.float32)
    _cells(rng, img, s, zoom, neuropil)
    deltas = np.zeros((s, s), np.float32)
    mito = _mitochondria(rng, deltas, s, zoom, neuropil)
    _vesicles(rng, deltas, s, zoom, neuropil)
    if not neuropil and rng.random() < 0.4:
        _nucleus(rng, img, deltas, s, zoom)
    points = _points(rng, s, zoom)
    img += deltas
    img += splat(s, s, *points) * 0.6

    # -- imaging: PSF, contrast, noise, polarity
    img = blur(img, rng.uniform(0.7, 1.3))
    img = 0.58 + (img - 0.55) * np.float32(rng.uniform(0.6, 1.25)) + np.float32(rng.normal(0, 0.04))
    img += np.float32(rng.uniform(0.01, 0.06)) * white_noise(rng, s, s)
    if rng.random() < 0.2:
        img = 1.0 - img
    return to_uint8(img), mito.astype(np.uint8)
