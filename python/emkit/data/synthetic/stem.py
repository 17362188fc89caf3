"""Synthetic ADF-STEM images of crystals with their restoration and segmentation targets.

Modelled on TEMImageNet: a 2-D projection of a crystal is a lattice of atom columns,
each imaged as a 2-D Gaussian whose height grows with atomic number (Z-contrast,
~Z^1.7). Per image the generator draws

* a lattice type -- square, rectangular, hexagonal, honeycomb (graphene/MoS2-like, two
  sublattices), perovskite [001] (A/B columns of different Z), dumbbell (Si/GaAs [110]),
  centred rectangular -- with random orientation, spacing (6-22 px), slight shear,
  column jitter, vacancies, substitutional dopants and sometimes a crystal edge;
* a low-frequency background (smooth field + ramp + broad blob: thickness and
  amorphous contamination);
* the observation: Poisson shot noise at a random dose, scan-line jitter (rows shifted
  by a smooth random walk) and line-to-line offsets, Gaussian detector noise.

Targets match TEMImageNet's folders: ``noNoise`` (atoms + background), ``noBackground-
noNoise`` (atoms), ``noNoiseNoBackgroundSuperresolution`` (atoms with half-width
Gaussians: the sharper image a super-resolution model should recover) and a circular
atom mask. Columns are deposited once with bilinear weights and turned into Gaussians by
one FFT multiply per width, so a 256x256 sample with all targets costs a few ms.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from emkit.data.synthetic.fields import gaussian_transfer, smooth_noise, splat, stretch, to_uint8, white_noise

#: name -> (a2 as (x, y) in units of a, basis [(fx, fy, species)], nearest-neighbour
#: distance in units of a). Fractions are along a1 = (1, 0) and a2.
LATTICES: dict[str, tuple[tuple[float, float], list[tuple[float, float, int]], float]] = {
    "square": ((0.0, 1.0), [(0.0, 0.0, 0)], 1.0),
    "rectangular": ((0.0, 1.45), [(0.0, 0.0, 0)], 1.0),
    "hexagonal": ((0.5, 0.8660254), [(0.0, 0.0, 0)], 1.0),
    "honeycomb": ((0.5, 0.8660254), [(0.0, 0.0, 0), (1 / 3, 1 / 3, 1)], 0.57735),
    "perovskite": ((0.0, 1.0), [(0.0, 0.0, 0), (0.5, 0.5, 1)], 0.70711),
    "dumbbell": ((0.0, 1.41421356), [(0.0, 0.0, 0), (0.0, 0.17, 1), (0.5, 0.5, 0), (0.5, 0.67, 1)], 0.2404),
    "centered-rectangular": ((0.0, 1.6), [(0.0, 0.0, 0), (0.5, 0.5, 0)], 0.9434),
}

#: Atomic numbers columns are drawn from (light to heavy).
ELEMENTS = np.array([6, 8, 14, 16, 22, 26, 29, 31, 33, 38, 42, 47, 56, 74, 79, 82], dtype=np.float32)


@dataclasses.dataclass
class StemSample:
    """One synthetic sample; all images float32 in [0, 1] except ``mask`` (uint8 0/1)."""

    image: np.ndarray
    no_noise: np.ndarray
    no_background: np.ndarray
    super_resolution: np.ndarray
    mask: np.ndarray

    def as_uint8(self) -> dict[str, np.ndarray]:
        """The 8-bit images TEMImageNet stores (mask: 0/255 like its circularMask PNGs)."""
        return {
            "image": to_uint8(self.image),
            "noNoise": to_uint8(self.no_noise),
            "noBackgroundnoNoise": to_uint8(self.no_background),
            "noNoiseNoBackgroundSuperresolution": to_uint8(self.super_resolution),
            "circularMask": self.mask * np.uint8(255),
        }


def _columns(rng: np.random.Generator, size: int):
    """Positions (y, x), Z-weights of the columns in view and the nominal spacing."""
    name = list(LATTICES)[int(rng.integers(len(LATTICES)))]
    (a2x, a2y), basis, nn = LATTICES[name]
    # spacing: nearest columns 4.5-22 px apart, unit cell at most 30 px
    a = float(rng.uniform(4.5 / nn, min(22.0 / nn, 30.0)))
    theta = float(rng.uniform(0, np.pi))
    shear = rng.normal(0, 0.03, 2)
    v1 = np.array([1.0, shear[0]]) * a
    v2 = np.array([a2x + shear[1], a2y]) * a
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    v1, v2 = rot @ v1, rot @ v2
    # enough cells to cover the image from a random origin, in any orientation
    reach = int(np.ceil(size * 1.5 / (a * min(1.0, a2y)))) + 2
    i, j = np.meshgrid(np.arange(-reach, reach + 1), np.arange(-reach, reach + 1), indexing="ij")
    i, j = i.ravel(), j.ravel()
    origin = rng.uniform(0, size, 2)
    zs = rng.choice(ELEMENTS[2:], size=2, replace=True)  # heavier than O: visible in ADF
    xs, ys, zz = [], [], []
    for fx, fy, species in basis:
        pos = origin[:, None] + np.outer(v1, i + fx) + np.outer(v2, j + fy)
        xs.append(pos[0])
        ys.append(pos[1])
        zz.append(np.full(len(i), zs[species], np.float32))
    x, y, z = np.concatenate(xs), np.concatenate(ys), np.concatenate(zz)
    keep = (x > -3 * a) & (x < size + 3 * a) & (y > -3 * a) & (y < size + 3 * a)
    x, y, z = x[keep], y[keep], z[keep]
    n = len(x)
    # defects: jitter, vacancies, dopants, an edge of the crystal
    x = x + rng.normal(0, rng.uniform(0, 0.04) * a, n)
    y = y + rng.normal(0, rng.uniform(0, 0.04) * a, n)
    present = rng.random(n) >= rng.uniform(0, 0.04)
    dopant = rng.random(n) < rng.uniform(0, 0.02)
    z = np.where(dopant, np.minimum(z * rng.uniform(1.3, 1.8), 83.0), z)  # heavier substitutions
    if rng.random() < 0.3:
        normal = rng.normal(size=2)
        normal /= np.linalg.norm(normal)
        offset = 0.5 * size * (normal[0] + normal[1]) + rng.uniform(-0.3, 0.3) * size
        present &= (x * normal[0] + y * normal[1]) < offset
    weights = (z / 79.0) ** 1.7 * present
    return y, x, weights.astype(np.float32), present, a, nn * a


def render_stem(rng: np.random.Generator, size: int = 256) -> StemSample:
    """One TEMImageNet-like sample (see module docstring)."""
    s = int(size)
    ys, xs, weights, present, a, d_nn = _columns(rng, s)
    sigma = float(np.clip(d_nn * rng.uniform(0.12, 0.22), 0.8, 3.5))
    sigma_sr = max(0.5, sigma * 0.5)
    # mask discs of radius ~0.3 x the nearest-neighbour distance (rarely touch: ~1% of discs,
    # where lattices are distorted; the observed image also carries scan jitter the mask lacks)
    sigma_mask = float(np.clip(0.3 * d_nn, 1.2, 5.0)) / np.sqrt(2 * np.log(2))

    # Columns outside the frame still spill light into it: render on a padded canvas.
    pad = int(np.ceil(4 * sigma)) + 2
    n = s + 2 * pad
    spec = np.fft.rfft2(splat(n, n, ys + pad, xs + pad, weights))
    spec_u = np.fft.rfft2(splat(n, n, ys + pad, xs + pad, present.astype(np.float32)))

    def render(spectrum: np.ndarray, sig: float) -> np.ndarray:
        img = np.fft.irfft2(spectrum * gaussian_transfer(n, n, sig), s=(n, n))
        return (img[pad:-pad, pad:-pad] * (2 * np.pi * sig * sig)).astype(np.float32)

    atoms = np.maximum(render(spec, sigma), 0)
    sharp = np.maximum(render(spec, sigma_sr), 0)
    mask = (render(spec_u, sigma_mask) > 0.5).astype(np.uint8)
    peak = float(atoms.max()) or 1.0

    # background: smooth field, ramp, broad blob; positive, relative to the atom peaks
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) / s
    bg = 0.5 + 0.35 * smooth_noise(rng, s, s, rng.uniform(1.0, 3.0))
    bg += rng.normal(0, 0.3) * (yy - 0.5) + rng.normal(0, 0.3) * (xx - 0.5)
    cy, cx, w = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.15, 0.5)
    bg += rng.uniform(0, 0.6) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * w * w))
    bg = np.maximum(bg - bg.min(), 0) * np.float32(rng.uniform(0.0, 0.8) * peak)
    clean = atoms + bg

    # observation: scan jitter, shot noise at a random dose, line offsets, detector noise
    jitter = np.cumsum(rng.normal(0, rng.uniform(0, 0.25), s)).astype(np.float32)
    jitter -= np.linspace(jitter[0], jitter[-1], s, dtype=np.float32)  # no overall drift
    col = np.arange(s, dtype=np.float32)[None, :] + jitter[:, None]
    c0 = np.clip(np.floor(col).astype(np.int64), 0, s - 2)
    t = np.clip(col - c0, 0, 1)
    shifted = np.take_along_axis(clean, c0, 1) * (1 - t) + np.take_along_axis(clean, c0 + 1, 1) * t
    dose = float(np.exp(rng.uniform(np.log(4.0), np.log(400.0))))
    counts = rng.poisson(np.maximum(shifted, 0) * (dose / peak)).astype(np.float32)
    counts += rng.normal(0, rng.uniform(0, 0.08) * dose, (s, 1)).astype(np.float32)  # line offsets
    counts += np.float32(rng.uniform(0, 0.05) * dose) * white_noise(rng, s, s)
    return StemSample(
        image=stretch(counts, 0.1, 99.9),
        no_noise=stretch(clean),
        no_background=stretch(atoms),
        super_resolution=stretch(sharp),
        mask=mask,
    )
