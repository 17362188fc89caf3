"""The pipelines the fused degradation op is measured against (shared by the benchmarks).

* :func:`torch_degrade`: plain torch driven by the same ``(B, 8)`` parameters as the fused
  op -- ``affine_grid``/``grid_sample`` warp (reflection), a per-sample separable Gaussian
  blur as a grouped ``conv2d`` (reflect-padded crop), ``torch.poisson`` shot noise and
  ``randn`` noise;
* :func:`kornia_modules`: ``kornia.augmentation`` RandomRotation + RandomCrop +
  RandomHorizontalFlip for the clean crop, RandomGaussianBlur + RandomGaussianNoise for the
  degraded one, with the ranges of a :class:`~emkit.ops.DegradeRanges` -- or None when
  kornia is not installed (it is optional: a GPU machine set up with ``--no-deps`` has none).

Neither reproduces the fused op's numbers (different random streams, padded blur halo);
they do the same work, which is what a throughput comparison needs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from benchmarks.common import optional_import


def torch_degrade(images: torch.Tensor, params: torch.Tensor, out: int, max_sigma: float = 5.0
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """(clean, degraded) ``(B, C, out, out)`` float32 crops of uint8 ``images`` in plain torch."""
    b, c, h, w = images.shape
    cx, cy, angle, scale, flip, sigma, noise, dose = params.float().unbind(1)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    f = 1.0 - 2.0 * (flip >= 0.5).float()
    theta = torch.stack([torch.stack([cos * f * out / w, -sin * out / w, 2 * cx / w - 1], 1),
                         torch.stack([sin * f * out / h, cos * out / h, 2 * cy / h - 1], 1)], 1)
    with torch.no_grad():
        grid = F.affine_grid(theta, [b, c, out, out], align_corners=False)
        clean = F.grid_sample(images.float() / 255.0, grid, mode="bilinear", padding_mode="reflection",
                              align_corners=False)
        radius = math.ceil(3 * max_sigma)
        k = torch.arange(-radius, radius + 1, device=images.device, dtype=torch.float32)
        s = sigma.clamp(min=1e-3, max=max_sigma)[:, None]
        taps = torch.where(sigma[:, None] > 0, torch.exp(-(k[None] ** 2) / (2 * s * s)), (k[None] == 0).float())
        taps = (taps / taps.sum(1, keepdim=True)).repeat_interleave(c, 0)
        v = F.pad(clean.reshape(1, b * c, out, out), (radius,) * 4, mode="reflect")
        v = F.conv2d(v, taps[:, None, None, :], groups=b * c)
        v = F.conv2d(v, taps[:, None, :, None], groups=b * c).reshape(b, c, out, out)
        d = dose.view(-1, 1, 1, 1)
        shot = torch.poisson(v.clamp(min=0) * d.clamp(min=1e-6)) / d.clamp(min=1e-6)
        v = torch.where(d > 0, shot, v)
        degraded = v + noise.view(-1, 1, 1, 1) * torch.randn_like(v)
    return clean, degraded


def kornia_modules(ranges, crop: int, device: torch.device):
    """(geometry, photometric) kornia module chains for ``ranges``, or None without kornia."""
    K = optional_import("kornia.augmentation")
    if K is None:
        return None
    geometry = torch.nn.Sequential(K.RandomRotation(ranges.rotation, p=1.0), K.RandomCrop((crop, crop)),
                                   K.RandomHorizontalFlip(p=ranges.flip_prob)).to(device)
    radius = math.ceil(3 * ranges.sigma[1])
    photometric = torch.nn.Sequential(K.RandomGaussianBlur(2 * radius + 1, ranges.sigma, p=ranges.blur_prob),
                                      K.RandomGaussianNoise(std=sum(ranges.noise) / 2, p=ranges.noise_prob)).to(device)
    return geometry, photometric
