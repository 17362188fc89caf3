"""The blur is kornia's Gaussian blur, applied as if the crop continued into the image."""

from __future__ import annotations

import pytest
import torch
from emkit.ops import degrade_pair, warp_and_degrade

kornia_filters = pytest.importorskip("kornia.filters")


def crop_params(b: int, cx: float, cy: float, sigma: float) -> torch.Tensor:
    p = torch.zeros(b, 8)
    p[:, 0], p[:, 1], p[:, 3], p[:, 5] = cx, cy, 1.0, sigma
    return p


@pytest.mark.parametrize("sigma", [0.6, 1.5, 3.0, 5.0])
def test_matches_kornia_gaussian_blur_at_zero_angle(cpu_isa, images, sigma):
    """A pixel-aligned crop at angle 0 is a slice; its blur is the slice of the full blur.

    The crop sits far enough inside the image that the halo (radius ceil(3 sigma)) is real
    input, so kornia's border handling never matters: this checks the taps, their
    normalisation and that the halo is warped from the input rather than padded.
    """
    x = images((2, 1, 80, 72), torch.float32)
    radius = int(torch.tensor(3.0 * sigma).ceil())
    # crop 30x26 whose top-left pixel is input (25, 23): centre = 25 + 15, 23 + 13
    clean, degraded = degrade_pair(x, crop_params(2, 23 + 13, 25 + 15, sigma), (30, 26), 0)
    assert torch.equal(clean, x[:, :, 25:55, 23:49])
    k = 2 * radius + 1
    ref = kornia_filters.gaussian_blur2d(x.double(), (k, k), (sigma, sigma))[:, :, 25:55, 23:49]
    assert (degraded.double() - ref).abs().max().item() < 1e-5


def test_constant_image_stays_constant(images):
    x = torch.full((1, 1, 20, 20), 0.25)
    p = crop_params(1, 10.0, 10.0, 2.5)
    p[0, 2] = 0.7  # rotated, and the halo reflects at the border
    _, degraded = degrade_pair(x, p, (20, 20), 0)
    assert (degraded - 0.25).abs().max().item() < 1e-6


def test_sigma_zero_means_no_blur(images):
    x = images((1, 2, 16, 16), torch.uint8)
    out = warp_and_degrade(x, crop_params(1, 8.0, 8.0, 0.0), (16, 16), 0)
    assert (out - x.float() / 255).abs().max().item() < 1e-7  # scaled by the float 1/255
