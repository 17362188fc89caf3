"""Random parameters for the fused degradation op.

Sampling is kept apart from the deterministic kernels (as kornia separates its
``random_generator`` from ``apply_transform``): :func:`sample_degrade_params` draws one row
of :data:`PARAM_COLUMNS` per sample, on the device where the images live, and
:func:`emkit.ops.degrade_pair` / :func:`emkit.ops.warp_and_degrade` are pure functions of
``(images, params, seed)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from emkit.config.ranges import ranged
from emkit.ops.validation import parse_size

#: Columns of the ``(B, 8)`` float32 parameter tensor consumed by the degradation op.
#: ``cx, cy``: crop centre in input pixels (pixel ``k`` spans ``[k, k + 1]``);
#: ``angle``: rotation in radians; ``scale``: input pixels per output pixel;
#: ``flip``: 1 mirrors the crop horizontally, 0 does not; ``sigma``: Gaussian blur sigma in
#: output pixels (0 = no blur, clamped to :data:`MAX_BLUR_SIGMA`); ``noise``: std of the
#: additive Gaussian noise (0 = none); ``dose``: electrons per unit intensity for Poisson
#: shot noise (0 = off).
PARAM_COLUMNS: tuple[str, ...] = ("cx", "cy", "angle", "scale", "flip", "sigma", "noise", "dose")

#: Largest blur sigma the kernels apply (radius ``ceil(3 * sigma)`` <= 15); larger values
#: are clamped by the kernels and rejected by :class:`DegradeRanges`.
MAX_BLUR_SIGMA: float = 5.0


def _pair(name: str, value: object) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(f"DegradeRanges.{name} must be a pair (low, high), got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"DegradeRanges.{name} must be finite with low <= high, got {value!r}")
    return lo, hi


@dataclass
class DegradeRanges:
    """Ranges of the random geometry and degradations, with defaults suited to EM pretext training.

    Every value is drawn independently and uniformly per sample. A degradation with
    probability ``p`` is applied to a fraction ``p`` of the samples (its parameter is 0
    for the others).

    Attributes:
        rotation: largest ``|angle|`` in degrees (0..180); EM images have no preferred
            orientation, so the default covers every angle.
        scale: range of input pixels per output pixel (> 0); a mild zoom in/out.
        flip_prob: probability of a horizontal mirror (with any rotation this also gives
            vertical mirrors).
        blur_prob, sigma: probability of a Gaussian blur and its sigma range in output
            pixels (0 <= sigma <= 5), a stand-in for defocus/drift.
        noise_prob, noise: probability of additive Gaussian (read) noise and its std range,
            in units of the [0, 1] intensity.
        dose_prob, dose: probability of Poisson shot noise and its dose range in electrons
            per pixel at intensity 1 (low dose = strong noise). Off by default.
    """

    rotation: float = ranged(180.0, 0, 180)
    scale: tuple[float, float] = ranged((0.9, 1.1), 0, 100, exclusive_min=True)
    flip_prob: float = ranged(0.5, 0, 1)
    blur_prob: float = ranged(0.5, 0, 1)
    sigma: tuple[float, float] = ranged((0.5, 2.0), 0, 5)
    noise_prob: float = ranged(0.8, 0, 1)
    noise: tuple[float, float] = ranged((0.02, 0.15), 0, 10)
    dose_prob: float = ranged(0.0, 0, 1)
    dose: tuple[float, float] = ranged((5.0, 50.0), 0, None, exclusive_min=True)

    def __post_init__(self) -> None:
        self.rotation = float(self.rotation)
        if not 0.0 <= self.rotation <= 180.0:
            raise ValueError(f"DegradeRanges.rotation must be in [0, 180] degrees, got {self.rotation}")
        for name in ("flip_prob", "blur_prob", "noise_prob", "dose_prob"):
            p = float(getattr(self, name))
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"DegradeRanges.{name} must be a probability in [0, 1], got {p}")
            setattr(self, name, p)
        self.scale = _pair("scale", self.scale)
        self.sigma = _pair("sigma", self.sigma)
        self.noise = _pair("noise", self.noise)
        self.dose = _pair("dose", self.dose)
        if self.scale[0] <= 0.0:
            raise ValueError(f"DegradeRanges.scale must be positive, got {self.scale}")
        if self.sigma[0] < 0.0 or self.sigma[1] > MAX_BLUR_SIGMA:
            raise ValueError(f"DegradeRanges.sigma must lie in [0, {MAX_BLUR_SIGMA}], got {self.sigma}")
        if self.noise[0] < 0.0:
            raise ValueError(f"DegradeRanges.noise must be >= 0, got {self.noise}")
        if self.dose[0] <= 0.0:
            raise ValueError(f"DegradeRanges.dose must be > 0 electrons per pixel, got {self.dose}")


def _uniform(u: torch.Tensor, lo_hi: tuple[float, float]) -> torch.Tensor:
    return lo_hi[0] + u * (lo_hi[1] - lo_hi[0])


def _crop_centre(u: torch.Tensor, in_side: int, half_extent: torch.Tensor) -> torch.Tensor:
    # Pixel centres of the crop must land in [0.5, in_side - 0.5] (no reflection needed).
    lo = 0.5 + half_extent
    hi = in_side - 0.5 - half_extent
    inside = lo <= hi
    return torch.where(inside, lo + u * (hi - lo), torch.full_like(u, in_side / 2.0))


def sample_degrade_params(
    n: int,
    input_size: tuple[int, int],
    output_size: tuple[int, int],
    ranges: DegradeRanges,
    *,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw ``n`` rows of degradation parameters, one per sample, as a ``(n, 8)`` float32 tensor.

    Columns are :data:`PARAM_COLUMNS`. Vectorised: one ``torch.rand`` call, no per-sample
    Python loop, so it is cheap on any device and deterministic given ``generator`` (which
    must live on ``device``).

    The crop centre is drawn so that every output pixel centre of the rotated and scaled
    crop samples the input inside its pixel-centre range (no border reflection) when the
    crop fits; along an axis where it cannot fit, the crop is centred in that axis.

    Args:
        n: number of samples (>= 0).
        input_size: ``(height, width)`` of the input images.
        output_size: ``(height, width)`` of the crops.
        ranges: the random ranges (see :class:`DegradeRanges`).
        device: where the parameters are created (the images' device).
        generator: optional ``torch.Generator`` for reproducible draws.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n must be an int >= 0, got {n!r}")
    if not isinstance(ranges, DegradeRanges):
        raise ValueError(f"ranges must be a DegradeRanges, got {type(ranges).__name__}")
    in_h, in_w = parse_size("input_size", input_size)
    out_h, out_w = parse_size("output_size", output_size)
    u = torch.rand((n, 11), generator=generator, device=device, dtype=torch.float32)

    angle = (2.0 * u[:, 0] - 1.0) * math.radians(ranges.rotation)
    scale = _uniform(u[:, 1], ranges.scale)
    flip = (u[:, 2] < ranges.flip_prob).to(torch.float32)
    zero = torch.zeros_like(angle)
    sigma = torch.where(u[:, 3] < ranges.blur_prob, _uniform(u[:, 4], ranges.sigma), zero)
    noise = torch.where(u[:, 5] < ranges.noise_prob, _uniform(u[:, 6], ranges.noise), zero)
    dose = torch.where(u[:, 7] < ranges.dose_prob, _uniform(u[:, 8], ranges.dose), zero)

    ac, as_ = angle.cos().abs(), angle.sin().abs()
    half_w, half_h = (out_w - 1) / 2.0, (out_h - 1) / 2.0
    ext_x = scale * (ac * half_w + as_ * half_h)
    ext_y = scale * (as_ * half_w + ac * half_h)
    cx = _crop_centre(u[:, 9], in_w, ext_x)
    cy = _crop_centre(u[:, 10], in_h, ext_y)
    return torch.stack([cx, cy, angle, scale, flip, sigma, noise, dose], dim=1).contiguous()
