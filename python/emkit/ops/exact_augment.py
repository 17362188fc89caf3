"""Pixel-exact paired augmentation: integer crops, quarter turns and mirrors only.

The fused warp (``augment_pair``'s default) samples every crop bilinearly at a random
sub-pixel position, angle and scale. That is the right augmentation for shapes, but it
low-passes the pixels: on white noise the standard deviation falls by about a third
(0.29 → 0.19 for uniform noise in a 64² crop, even with rotation 0 and scale 1). A
restoration model trained on such crops learns to denoise smoothed noise and then sees
raw detector noise at test time; lattice fringes near the Nyquist limit (HRTEM) are
damped the same way. This path moves whole pixels instead — what CARE/CAREamics use
(flips and 90° rotations of integer-offset patches) — so every training input keeps the
recorded noise statistics.
"""

from __future__ import annotations

import torch

from emkit.plugin_api.padding import pad_to_size


def quarter_turns(rotation: float) -> list[int]:
    """The quarter turns (0..3, counter-clockwise) within ``±rotation`` degrees."""
    return sorted({k % 4 for k in (-2, -1, 0, 1, 2) if abs(k) * 90 <= rotation})


def exact_crops(stacked: torch.Tensor, crop: int, *, rotation: float, flip_prob: float,
                generator: torch.Generator | None) -> torch.Tensor:
    """``crop``² crops of ``stacked`` (B, C, H, W) at integer offsets, each turned by a random
    quarter turn allowed by ``rotation`` and mirrored with ``flip_prob``; all channels of a
    sample share the geometry. Values are copied, never interpolated."""
    stacked, _ = pad_to_size(stacked, crop, crop)  # images smaller than the crop: mirrored out
    n, _, h, w = stacked.shape
    turns = quarter_turns(rotation)
    u = torch.rand((n, 4), generator=generator, device=stacked.device).cpu().tolist()
    out = []
    for i, (uy, ux, ut, uf) in enumerate(u):
        y0, x0 = min(int(uy * (h - crop + 1)), h - crop), min(int(ux * (w - crop + 1)), w - crop)
        tile = stacked[i, :, y0:y0 + crop, x0:x0 + crop]
        k = turns[min(int(ut * len(turns)), len(turns) - 1)]
        if k:
            tile = torch.rot90(tile, k, dims=(-2, -1))
        if uf < flip_prob:
            tile = torch.flip(tile, dims=(-1,))
        out.append(tile)
    return torch.stack(out).contiguous()


def add_input_noise(image: torch.Tensor, *, prob: float, std_range: tuple[float, float],
                    generator: torch.Generator | None) -> torch.Tensor:
    """``image`` plus Gaussian noise of a per-sample std drawn from ``std_range``, applied to
    each sample with probability ``prob`` (the input only; targets and masks stay clean)."""
    if prob <= 0:
        return image
    n = image.shape[0]
    u = torch.rand((n, 2), generator=generator, device=image.device)
    std = (std_range[0] + u[:, 0] * (std_range[1] - std_range[0])) * (u[:, 1] < prob).float()
    noise = torch.randn(image.shape, generator=generator, device=image.device, dtype=image.dtype)
    return image + noise * std.view(n, 1, 1, 1).to(image.dtype)
