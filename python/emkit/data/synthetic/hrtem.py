"""Synthetic HRTEM of Au-like nanoparticles on amorphous carbon, with particle masks.

Modelled on the Au data of Sytwu/Groschner et al. (float32 512x512 micrographs with a
particle class map). Per image the generator picks a size regime -- particle diameters
around 2.2, 5, 10 or 20 nm -- and a pixel size that puts those particles at 25-160 px,
so the same physical lattice spacings (Au {111} 0.235 nm, {200} 0.204 nm) appear as
fringes of very different periods, and vanish below Nyquist at the coarsest sampling,
as in low-magnification data.

* **particles**: irregular round outlines (radius modulated by low harmonics), placed
  without overlap; mass-thickness darkening that follows a sphere-like thickness; one or
  two (twinned) sets of lattice fringes at random orientation; a thin bright Fresnel
  fringe just outside the edge (defocus);
* **matrix**: amorphous-carbon speckle (white noise band-passed around 0.3-0.5 nm),
  slow illumination changes;
* **imaging**: small PSF blur, Poisson noise at a random dose, Gaussian read noise,
  per-image percentile normalisation to [0, 1] float32.

The ground truth is the particle mask (1 inside a particle).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from emkit.data.synthetic.fields import bandpass_noise, blur, paste_patches, smooth_noise, stretch, white_noise

#: (diameter nm, relative frequency) of the size regimes.
REGIMES_NM = (2.2, 5.0, 10.0, 20.0)
AU_SPACINGS_NM = (0.235, 0.204)


@dataclasses.dataclass
class HrtemSample:
    image: np.ndarray  # float32 (H, W) in [0, 1]
    mask: np.ndarray  # uint8 (H, W), 1 = particle
    pixel_nm: float
    diameter_nm: float


def _place(rng: np.random.Generator, size: int, radii: np.ndarray) -> np.ndarray:
    """Centres for circles of ``radii`` without overlap (vectorised rejection; drops misfits)."""
    centres = np.zeros((0, 2))
    kept = []
    for r in radii:
        cand = rng.uniform(-0.2 * r, size + 0.2 * r, (24, 2))
        if len(centres):
            d = np.sqrt(((cand[:, None, :] - centres[None, :, :]) ** 2).sum(-1))
            ok = np.all(d > (r + np.asarray(kept)[None, :]) * 1.08 + 3, axis=1)
            cand = cand[ok]
        if len(cand):
            centres = np.vstack([centres, cand[:1]])
            kept.append(r)
    return centres, np.asarray(kept, dtype=np.float32)


def render_hrtem(rng: np.random.Generator, size: int = 512) -> HrtemSample:
    """One synthetic Au HRTEM micrograph with its particle mask (see module docstring)."""
    s = int(size)
    diameter_nm = float(rng.choice(REGIMES_NM) * rng.uniform(0.8, 1.2))
    diameter_px = float(rng.uniform(25, 160)) * s / 512
    pixel_nm = diameter_nm / diameter_px

    # -- matrix: amorphous carbon speckle + illumination
    speckle_period = float(np.clip(rng.uniform(0.3, 0.5) / pixel_nm, 2.2, 14.0))
    img = np.float32(rng.uniform(0.04, 0.12)) * bandpass_noise(rng, s, s, speckle_period, 0.5)
    img += 0.05 * smooth_noise(rng, s, s, rng.uniform(1, 4))

    # -- particles
    coverage = rng.uniform(0.04, 0.3)
    n = int(np.clip(coverage * s * s / (np.pi * (diameter_px / 2) ** 2), 1, 80))
    radii = (diameter_px / 2) * rng.lognormal(0, 0.18, n)
    centres, radii = _place(rng, s, radii)
    m = len(radii)
    p = int(np.ceil(2 * radii.max() * 1.35)) + 8 if m else 1
    c = (p - 1) / 2
    yy, xx = np.mgrid[0:p, 0:p].astype(np.float32)
    yy, xx = yy[None] - c, xx[None] - c
    ang = np.arctan2(yy, xx)
    wobble = np.ones((m, p, p), np.float32)
    for k in (2, 3, 4, 5):
        amp = rng.normal(0, 0.07 / k, m).astype(np.float32)[:, None, None]
        wobble += amp * np.cos(k * ang + rng.uniform(0, 2 * np.pi, m).astype(np.float32)[:, None, None])
    r_px = radii[:, None, None] * wobble
    dist = np.sqrt(yy**2 + xx**2)
    rho = dist / r_px
    inside = np.clip((1 - rho) * r_px + 0.5, 0, 1)
    thick = np.sqrt(np.clip(1 - rho**2, 0, 1))
    # lattice fringes: 1 or 2 (twinned) orientations, visible only above Nyquist
    d_nm = rng.choice(AU_SPACINGS_NM, m)
    period = (d_nm / pixel_nm).astype(np.float32)[:, None, None]
    theta = rng.uniform(0, np.pi, m).astype(np.float32)[:, None, None]
    phase = rng.uniform(0, 2 * np.pi, m).astype(np.float32)[:, None, None]
    along = xx * np.cos(theta) + yy * np.sin(theta)
    fringes = np.cos(2 * np.pi * along / period + phase)
    twin = rng.random(m) < 0.35
    theta2 = theta + rng.uniform(0.6, 1.3, m).astype(np.float32)[:, None, None]
    boundary = rng.normal(0, 0.3, m).astype(np.float32)[:, None, None]
    if twin.any():  # a twin boundary through the particle: the other half has other fringes
        t = np.flatnonzero(twin)
        fringes2 = np.cos(2 * np.pi * (xx * np.cos(theta2[t]) + yy * np.sin(theta2[t])) / period[t] + phase[t])
        side = (xx * np.cos(theta[t] + 1.2) + yy * np.sin(theta[t] + 1.2)) > boundary[t] * r_px[t]
        fringes[t] = np.where(side, fringes2, fringes[t])
    visible = np.clip((period - 2.2) / 1.5, 0, 1)  # fringes fade out towards Nyquist
    amp = (rng.uniform(0.08, 0.3, m).astype(np.float32)[:, None, None]) * visible
    darkening = rng.uniform(0.12, 0.35, m).astype(np.float32)[:, None, None]
    halo = np.exp(-(((rho - 1) * r_px - 1.5) / 1.3) ** 2) * (rho > 1)
    delta = inside * (-darkening * (0.4 + 0.6 * thick) + amp * fringes * (0.5 + 0.5 * thick))
    delta += np.float32(rng.uniform(0.0, 0.12)) * halo
    tops = np.round(centres[:, 0] - c).astype(np.int64)
    lefts = np.round(centres[:, 1] - c).astype(np.int64)
    img += paste_patches(s, s, delta.astype(np.float32), tops, lefts)
    mask = paste_patches(s, s, (rho < 1).astype(np.float32), tops, lefts) > 0.5

    # -- imaging
    img = blur(0.6 + img, rng.uniform(0.4, 1.0))
    dose = float(np.exp(rng.uniform(np.log(15), np.log(600))))
    counts = rng.poisson(np.clip(img, 0.01, None) * dose).astype(np.float32)
    counts += np.float32(rng.uniform(0.0, 0.03) * dose) * white_noise(rng, s, s)
    return HrtemSample(stretch(counts, 0.5, 99.5), mask.astype(np.uint8), pixel_nm, diameter_nm)
