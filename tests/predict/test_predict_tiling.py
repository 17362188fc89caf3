"""Tile grid, blending windows, overlap planning and the padding index maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from emkit.errors import EmkitError
from emkit.predict.padding import PadPlan
from emkit.predict.tile_grid import Overlap, TileGrid, axis_starts, axis_weights, halo, plan_overlap

from run_support import needs_unet


@pytest.mark.parametrize(
    "length,tile,overlap,multiple",
    [(1000, 256, 64, 16), (512, 512, 64, 16), (300, 512, 64, 4), (1024, 128, 40, 8), (97, 20, 7, 1), (64, 32, 0, 32)],
)
def test_axis_starts_cover_with_enough_overlap(length, tile, overlap, multiple):
    length = -(-length // multiple) * multiple
    starts = axis_starts(length, tile, overlap, multiple)
    size = min(tile, length)
    assert starts[0] == 0 and starts[-1] + size == length
    assert all(s % multiple == 0 for s in starts)
    assert all(b > a for a, b in zip(starts, starts[1:]))
    assert all(a + size - b >= overlap for a, b in zip(starts, starts[1:]))


@pytest.mark.parametrize("margin,ramp", [(0, 0), (5, 0), (8, 16), (24, 16), (2, 30)])
def test_weights_partition_unity_and_vanish_near_interior_edges(margin, ramp):
    overlap = 2 * margin + ramp
    height, width, tile = 400, 330, 120
    grid = TileGrid.build(height, width, tile, 1, Overlap(overlap, margin, True))
    total = np.zeros((height, width))
    for t in grid:
        w = grid.weight(t)
        total[t.y : t.y + grid.tile_h, t.x : t.x + grid.tile_w] += w
        if t.y > 0:
            assert np.all(w[:margin] == 0)
        if t.y + grid.tile_h < height:
            assert np.all(w[grid.tile_h - margin :] == 0)
        if t.x > 0:
            assert np.all(w[:, :margin] == 0)
        if t.x + grid.tile_w < width:
            assert np.all(w[:, grid.tile_w - margin :] == 0)
    np.testing.assert_allclose(total, 1.0, atol=1e-6)
    assert len(grid) > 4


def test_weights_ramp_linearly_in_exact_overlap():
    starts = axis_starts(200, 120, 40, 1)
    assert starts == [0, 80]  # image positions 80..119 are covered by both tiles
    w0, w1 = axis_weights(starts, 120, 200, margin=10, ramp=20)
    assert np.all(w1[:10] == 0) and np.all(w0[110:] == 0)
    assert np.all(np.diff(w1[10:30]) > 0) and np.all(w1[30:] == 1)
    assert np.all(w0[:80] == 1)
    np.testing.assert_allclose(w0[80:120] + w1[0:40], 1.0)


def test_plan_overlap_auto_exact_when_tile_allows():
    ov = plan_overlap(512, 16, 200, None)
    assert ov.exact and ov.margin == halo(200, 16) == 108
    assert ov.overlap % 16 == 0 and ov.overlap >= 2 * ov.margin + 16 and ov.overlap <= 256


def test_plan_overlap_auto_falls_back_for_huge_receptive_field():
    ov = plan_overlap(512, 32, 1113, None)
    assert not ov.exact and ov.overlap == 128 and ov.margin == 32
    unknown = plan_overlap(256, 1, None, None)
    assert not unknown.exact and unknown.overlap == 64


def test_plan_overlap_explicit_values():
    assert plan_overlap(256, 8, 44, 49) == Overlap(56, halo(44, 8), True)
    assert plan_overlap(256, 8, 44, 20) == Overlap(24, 6, False)
    with pytest.raises(EmkitError, match="smaller than the tile"):
        plan_overlap(64, 8, 44, 64)


@pytest.mark.parametrize("h,w,m", [(37, 50, 16), (64, 64, 16), (5, 3, 8), (100, 9, 32), (1, 1, 4)])
def test_pad_plan_matches_torch_padding(h, w, m):
    x = torch.arange(h * w, dtype=torch.float32).reshape(1, 1, h, w)
    plan = PadPlan.build(h, w, m)
    ph, pw = plan.padded_height - h, plan.padded_width - w
    assert plan.padded_height % m == 0 and plan.padded_width % m == 0
    expected = F.pad(x, (plan.left, pw - plan.left, plan.top, ph - plan.top), mode=plan.mode) if ph or pw else x
    gathered = x[0, 0][plan.rows][:, plan.cols]
    torch.testing.assert_close(gathered, expected[0, 0])


@needs_unet
def test_pad_plan_matches_builtin_generator_padding():
    from emkit.plugin_api import pad_to_multiple

    for h, w in [(37, 50), (5, 3), (70, 33)]:
        x = torch.rand(1, 1, h, w)
        padded, box = pad_to_multiple(x, 16)
        plan = PadPlan.build(h, w, 16)
        assert box[:2] == (plan.top, plan.left)
        torch.testing.assert_close(x[0, 0][plan.rows][:, plan.cols], padded[0, 0])


@needs_unet
@pytest.mark.parametrize("config", [{"blocks": 2}, {"blocks": 3}, {"blocks": 4}, {"blocks": 2, "rf": 116},
                                    {"blocks": 3, "pools": [2, 4, 2], "dilations": [2, 1, 1, 1]}])
def test_halo_covers_measured_footprint_of_unet(config):
    """Every output pixel's input footprint lies within ``halo`` on each side."""
    from emkit.models import build_generator
    from emkit_builtin.generators.rf_probe import positive_copy

    gen = build_generator("unet", {**config, "width": 1}).eval()
    m, rf = gen.size_multiple, gen.receptive_field
    probe = positive_copy(gen)
    height = (3 * rf // m + 2) * m
    x = torch.ones(m, 1, height, m, dtype=torch.float64, requires_grad=True)
    first = height // 2 // m * m
    rows = torch.arange(m)
    probe(x)[rows, :, first + rows, m // 2].sum().backward()
    touched = x.grad.abs().sum(dim=(1, 3)) > 0
    reach = 0
    for b in range(m):
        idx = torch.nonzero(touched[b]).flatten()
        reach = max(reach, first + b - int(idx[0]), int(idx[-1]) - first - b)
    assert reach <= halo(rf, m)
