"""Paired augmentation through the fused op: one geometry for an image and its labels.

Public API for task plugins (built-in and third-party): ``AugmentConfig`` (a config
section, ``task.augment.rotation=90``) and ``augment_pair``, which samples per-sample
crop/rotation/flip/scale (and optional extra noise for the input only) on the device
and warps the stacked channels in one fused call: bilinear for images, restoration
targets and heatmaps, nearest for masks. ``task.augment.exact=true`` moves whole pixels
instead (``emkit.ops.exact_augment``: why the warp is wrong for noise-level restoration).
"""

from __future__ import annotations

import dataclasses

import torch

from emkit.config.ranges import ranged
from emkit.ops import DegradeRanges, sample_degrade_params, warp_and_degrade
from emkit.ops.exact_augment import add_input_noise, exact_crops
from emkit.plugin_api import StepContext, to_unit


@dataclasses.dataclass
class AugmentConfig:
    """Random augmentation of training pairs (validation/test use the full images)."""

    #: Largest rotation in degrees (0-180); EM images have no preferred orientation.
    rotation: float = ranged(180.0, 0, 180)
    #: Input pixels per output pixel.
    scale: tuple[float, float] = ranged((0.9, 1.1), 0, 100, exclusive_min=True)
    flip_prob: float = ranged(0.5, 0, 1)
    #: Extra Gaussian noise (std range, probability) added to the input only.
    noise_prob: float = ranged(0.0, 0, 1)
    noise: tuple[float, float] = ranged((0.0, 0.05), 0, 10)
    #: Pixel-exact geometry (emkit.ops.exact_augment): integer-offset crops, quarter turns
    #: (any allowed by ``rotation``: 0 = none, 90 = ±90°, 180 = all four) and mirrors; no
    #: interpolation, so inputs keep their recorded noise. Needs ``scale=[1,1]``.
    exact: bool = False

    def __post_init__(self) -> None:
        if self.exact:
            check_exact(self.rotation, self.scale, where="task.augment")

    def ranges(self) -> DegradeRanges:
        return DegradeRanges(rotation=self.rotation, scale=self.scale, flip_prob=self.flip_prob,
                             blur_prob=0.0, noise_prob=self.noise_prob, noise=self.noise, dose_prob=0.0)


def check_exact(rotation: float, scale, *, where: str) -> None:
    """Refuse settings the pixel-exact path cannot honour, naming the keys."""
    if tuple(float(v) for v in scale) != (1.0, 1.0):
        raise ValueError(f"{where}.exact=true moves whole pixels and cannot rescale: set {where}.scale=[1,1] "
                         f"(got {list(scale)})")
    if 0 < rotation < 90:
        raise ValueError(f"{where}.exact=true turns by quarter turns only: {where}.rotation must be 0 (none) "
                         f"or at least 90, got {rotation}")


def augment_pair(image: torch.Tensor, other: torch.Tensor, *, crop: int, ranges: DegradeRanges, ctx: StepContext,
                 other_is_mask: bool, exact: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Warp ``image`` (B, C, H, W) and ``other`` (target or mask) with the same geometry.

    Returns ``(image, other)`` crops of ``crop``² in [0, 1] float (mask: integer-valued float).
    Noise/blur from ``ranges`` is applied to the image channels only. ``other`` may already
    be float (e.g. a heatmap); integer images are scaled by their range, masks are not.
    ``exact``: integer crops, quarter turns and mirrors instead of the bilinear warp
    (``AugmentConfig.exact``; ``ranges.scale`` must be (1, 1)).
    """
    c = image.shape[1]
    img = to_unit(image)
    oth = other.float() if other_is_mask or other.is_floating_point() else to_unit(other)
    stacked = torch.cat([img, oth], 1).contiguous()
    if exact:
        return _exact_pair(stacked, c, crop=crop, ranges=ranges, ctx=ctx)
    size = (crop, crop)
    with ctx.data_timer():
        params = sample_degrade_params(stacked.shape[0], tuple(stacked.shape[-2:]), size, ranges,
                                       device=stacked.device, generator=ctx.torch_generator())
        flags_input = [True] * c + [False] * oth.shape[1]
        flags_nearest = [False] * c + [other_is_mask] * oth.shape[1]
        out = warp_and_degrade(stacked, params, size, ctx.seed, degrade_channels=flags_input,
                               nearest_channels=flags_nearest)
    return out[:, :c], out[:, c:]


def _exact_pair(stacked: torch.Tensor, c: int, *, crop: int, ranges: DegradeRanges,
                ctx: StepContext) -> tuple[torch.Tensor, torch.Tensor]:
    check_exact(ranges.rotation, ranges.scale, where="augment")
    with ctx.data_timer():
        gen = ctx.torch_generator()
        out = exact_crops(stacked, crop, rotation=ranges.rotation, flip_prob=ranges.flip_prob, generator=gen)
        image = add_input_noise(out[:, :c], prob=ranges.noise_prob, std_range=ranges.noise, generator=gen)
    return image, out[:, c:]
