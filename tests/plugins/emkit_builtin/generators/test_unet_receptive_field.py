"""The nine U-Net presets' receptive fields, measured on the networks themselves.

``rf_probe`` makes every path of a copy of the network active (positive weights,
identity batch norm, all-ones input, max-pool → avg-pool with the same window) and
reads which input rows the gradient of one output pixel touches, for every output
row of one pooling period. The paper's formula must equal the mean extent exactly;
single pixels may see a little more or less (grid-aligned pooling), never more than
one coarsest-grid step apart.

The avg-pool substitution is itself checked against the real network: in a copy
with positive weights but *max*-pooling, a huge bump on one input row changes the
output pixel exactly when the probe says that row is in its footprint.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from emkit.models import build_generator
from emkit_builtin.generators.rf_probe import ProbeError, measure_receptive_field, positive_copy
from emkit_builtin.generators.unet_rf import PRESETS

NINE = [(b, rf) for b in sorted(PRESETS) for rf in sorted(PRESETS[b])]

#: Per-pixel extremes as documented in ``unet_rf`` (the mean is the preset's RF).
PER_PIXEL = {44: (44, 44), 84: (84, 84), 116: (116, 116), 96: (92, 100), 176: (172, 180), 240: (236, 244),
             200: (188, 204), 360: (348, 364), 424: (412, 428)}


def _height(rf: int, multiple: int) -> int:
    return -(-(rf + 4 * multiple + 64) // multiple) * multiple


@pytest.mark.parametrize("blocks, rf", NINE, ids=[f"U-Net_{b}_{r}" for b, r in NINE])
def test_measured_mean_extent_equals_paper_rf(blocks, rf):
    net = build_generator("unet", {"blocks": blocks, "rf": rf, "width": 2})
    period = net.size_multiple
    measured = measure_receptive_field(net, period=period, in_channels=1, height=_height(rf, period))
    assert len(measured.extents) == period
    assert measured.mean == rf == net.receptive_field, measured.extents
    assert (measured.min, measured.max) == PER_PIXEL[rf]


def test_spread_of_the_baselines_is_real():
    """U-Net_2_44 is position-independent; U-Net_3_96 sees 92 or 100 px by position."""
    net2 = build_generator("unet", {"blocks": 2, "width": 2})
    assert set(measure_receptive_field(net2, period=4, in_channels=1, height=128).extents) == {44}
    net3 = build_generator("unet", {"blocks": 3, "width": 2})
    assert set(measure_receptive_field(net3, period=8, in_channels=1, height=192).extents) == {92, 100}


def _max_pool_footprint(net: nn.Module, row: int, height: int, width: int) -> set[int]:
    """Input rows whose bump changes output pixel (row, width // 2) in the max-pool network."""
    probe = positive_copy(net)
    for parent in list(probe.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.AvgPool2d):
                setattr(parent, name, nn.MaxPool2d(child.kernel_size, child.stride))
    assert any(isinstance(m, nn.MaxPool2d) for m in probe.modules())
    with torch.no_grad():
        base = probe(torch.ones(1, 1, height, width, dtype=torch.float64))[0, 0, row, width // 2]
        changed: set[int] = set()
        for start in range(0, height, 32):  # item i of a chunk bumps input row start + i
            rows = torch.arange(start, min(start + 32, height))
            x = torch.ones(len(rows), 1, height, width, dtype=torch.float64)
            x[torch.arange(len(rows)), 0, rows, :] += 1e150
            y = probe(x)[:, 0, row, width // 2]
            changed |= {int(r) for r in rows[y != base]}
    return changed


def _gradient_footprint(net: nn.Module, row: int, height: int, width: int) -> set[int]:
    probe = positive_copy(net)
    x = torch.ones(1, 1, height, width, dtype=torch.float64, requires_grad=True)
    probe(x)[0, 0, row, width // 2].backward()
    return {int(i) for i in torch.nonzero(x.grad[0, 0].abs().sum(dim=1)).flatten()}


@pytest.mark.parametrize("blocks, rf, rows", [(2, 116, 2), (3, 96, 8), (4, 424, 1)])
def test_avg_pool_probe_equals_max_pool_dependency(blocks, rf, rows):
    net = build_generator("unet", {"blocks": blocks, "rf": rf, "width": 2})
    m = net.size_multiple
    height = _height(rf, m)
    first = height // 2 // m * m
    for row in range(first, first + rows):
        via_max = _max_pool_footprint(net, row, height, m)
        via_grad = _gradient_footprint(net, row, height, m)
        assert via_max == via_grad and len(via_grad) > rf // 2


def test_probe_refuses_layers_it_cannot_open():
    with pytest.raises(ProbeError, match="LayerNorm"):
        positive_copy(nn.Sequential(nn.Conv2d(1, 1, 3), nn.LayerNorm(4)))


def test_explicit_layout_with_a_larger_pool():
    """pools 2, 4, 2 + dilations 2, 1, 1, 1 also give 176, the same for every pixel."""
    net = build_generator("unet", {"blocks": 3, "pools": [2, 4, 2], "dilations": [2, 1, 1, 1], "width": 2})
    measured = measure_receptive_field(net, period=16, height=_height(176, 16))
    assert net.receptive_field == 176 and set(measured.extents) == {176}
