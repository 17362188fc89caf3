"""The CPU kernel against the pure-torch definition in emkit.ops._reference.

Noise is included: the reference draws the kernels' own Philox words. Poisson counts are
integers, so a rate within float rounding of a decision boundary may land one count apart
(probability ~1e-6 per pixel); those are tolerated at a tiny rate, everything else must
agree to 1e-4.
"""

from __future__ import annotations

import pytest
import torch
from emkit.ops import (
    DegradeRanges,
    degrade_pair,
    sample_degrade_params,
    warp_and_degrade,
)
from emkit.ops._reference import reference_degrade

TOL = 1e-4

RANGES = DegradeRanges(scale=(0.6, 1.8), blur_prob=0.7, sigma=(0.3, 3.0), noise_prob=0.7,
                       noise=(0.01, 0.2), dose_prob=0.4, dose=(3.0, 300.0))


def make_params(b: int, in_hw: tuple[int, int], out_hw: tuple[int, int], seed: int) -> torch.Tensor:
    p = sample_degrade_params(b, in_hw, out_hw, RANGES, generator=torch.Generator().manual_seed(seed))
    if b >= 3:  # special rows: far outside (several reflections), clamped sigma, identity
        p[0, 0] += 2.7 * in_hw[1]
        p[0, 1] -= 1.9 * in_hw[0]
        p[1, 5] = 7.5  # clamped to 5
        p[2] = torch.tensor([in_hw[1] / 2, in_hw[0] / 2, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    return p


def assert_matches(out: torch.Tensor, ref: torch.Tensor, poisson_ok: float = 0.0) -> None:
    err = (out.double() - ref).abs()
    bad = (err > TOL).double().mean().item()
    assert bad <= poisson_ok, f"{bad:.2e} of pixels off by > {TOL} (max {err.max().item():.3g})"
    if poisson_ok == 0.0:
        assert err.max().item() <= TOL


SHAPES = [
    # (B, C, Hin, Win), (Hout, Wout)
    ((4, 1, 41, 36), (31, 28)),   # odd / even sizes
    ((3, 3, 24, 30), (45, 52)),   # crop larger than the input: reflection everywhere
    ((3, 2, 70, 19), (16, 67)),   # thin input, wide crop
]


@pytest.mark.parametrize("dtype", [torch.uint8, torch.uint16, torch.float32])
@pytest.mark.parametrize(("in_shape", "out_hw"), SHAPES)
def test_degrade_pair_matches_reference(cpu_isa, images, dtype, in_shape, out_hw):
    x = images(in_shape, dtype, seed=in_shape[2])
    p = make_params(in_shape[0], in_shape[2:], out_hw, seed=in_shape[3])
    seed = 0xDEADBEEF_0000_0001
    clean, degraded = degrade_pair(x, p, out_hw, seed)
    ref_clean, ref_degraded = reference_degrade(x, p, out_hw, seed)
    assert clean.shape == degraded.shape == (in_shape[0], in_shape[1], *out_hw)
    assert clean.dtype == degraded.dtype == torch.float32
    assert_matches(clean, ref_clean)
    assert_matches(degraded, ref_degraded, poisson_ok=1e-3)


def test_geometry_and_blur_without_noise(cpu_isa, images):
    """Warp + blur alone (no random numbers at all) match to 1e-4 everywhere."""
    x = images((5, 2, 50, 45), torch.uint8)
    p = make_params(5, (50, 45), (37, 40), seed=3)
    p[:, 5] = torch.tensor([0.0, 0.7, 1.3, 2.2, 4.9])
    p[:, 6:] = 0.0
    clean, degraded = degrade_pair(x, p, (37, 40), 1)
    ref_clean, ref_degraded = reference_degrade(x, p, (37, 40), 1, noise=False)
    assert_matches(clean, ref_clean)
    assert_matches(degraded, ref_degraded)


def test_warp_and_degrade_channel_flags(cpu_isa, images):
    """Image + mask stack: degrade channel 0, keep channel 1 clean, nearest-sample channel 2."""
    x = images((4, 3, 33, 40), torch.float32, seed=5)
    x[:, 2] = torch.randint(0, 4, (4, 33, 40)).float()  # labels
    p = make_params(4, (33, 40), (29, 35), seed=8)
    flags = dict(degrade_channels=[True, False, False], nearest_channels=[False, False, True])
    out = warp_and_degrade(x, p, (29, 35), 77, **flags)
    ref_clean, ref_degraded = reference_degrade(x, p, (29, 35), 77, **flags)
    assert_matches(out, ref_degraded, poisson_ok=1e-3)
    assert (out[:, 1].double() - ref_clean[:, 1]).abs().max().item() <= TOL
    labels = set(x[:, 2].unique().tolist())
    assert set(out[:, 2].unique().tolist()) <= labels  # nearest keeps labels labels


def test_defaults_agree_between_entry_points(images):
    x = images((3, 2, 30, 30), torch.uint16)
    p = make_params(3, (30, 30), (24, 26), seed=1)
    clean, degraded = degrade_pair(x, p, (24, 26), 5)
    assert torch.equal(warp_and_degrade(x, p, (24, 26), 5), degraded)
    # Same values; a blurred sample's canvas starts `radius` columns earlier, which may move
    # the last float bit of the clean warp.
    only_warp = warp_and_degrade(x, p, (24, 26), 5, degrade_channels=[False, False])
    assert (only_warp - clean).abs().max().item() < 1e-5


def test_bfloat16_output_is_rounded_float32(images):
    x = images((3, 1, 40, 40), torch.uint8)
    p = make_params(3, (40, 40), (33, 35), seed=2)
    c32, d32 = degrade_pair(x, p, (33, 35), 9)
    c16, d16 = degrade_pair(x, p, (33, 35), 9, out_dtype=torch.bfloat16)
    assert c16.dtype == d16.dtype == torch.bfloat16
    assert torch.equal(c16, c32.to(torch.bfloat16))  # torch rounds to nearest even too
    assert torch.equal(d16, d32.to(torch.bfloat16))


def test_isa_paths_agree(monkeypatch, images):
    from emkit.ops._backend import native

    if native().degrade_cpu_isa() != "avx2":
        pytest.skip("no AVX2 path here")
    x = images((4, 2, 64, 48), torch.uint8)
    p = make_params(4, (64, 48), (56, 60), seed=4)
    fast = degrade_pair(x, p, (56, 60), 3)
    monkeypatch.setenv("EMKIT_CPU_ISA", "generic")
    slow = degrade_pair(x, p, (56, 60), 3)
    for a, b in zip(fast, slow):
        assert (a - b).abs().max().item() < 1e-5


def test_reference_warp_is_grid_sample_reflection():
    """The documented reflection (half-sample symmetric, period 2n) is grid_sample's."""
    from emkit.ops._reference import reflect_index

    n = 5
    k = torch.arange(-12, 17)
    expect = [min(m % (2 * n), 2 * n - 1 - m % (2 * n)) for m in k.tolist()]
    assert reflect_index(k, n).tolist() == expect
    # grid_sample(reflection, align_corners=False) of a 1-row image at pixel index m - 0.0
    row = torch.arange(n, dtype=torch.float64).view(1, 1, 1, n)
    xs = torch.arange(-12, 17, dtype=torch.float64)
    grid = torch.stack([(2 * xs + 1) / n - 1, torch.zeros_like(xs)], -1).view(1, 1, -1, 2)
    sampled = torch.nn.functional.grid_sample(row, grid, padding_mode="reflection", align_corners=False)
    assert sampled.flatten().tolist() == [float(e) for e in expect]
