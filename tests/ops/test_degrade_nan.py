"""NaN geometry parameters: both CPU paths agree with the reference (index coordinate 0).

The CUDA kernel applies the same rule (a NaN coordinate samples index 0 on its axis); it
is checked against the CPU in tests/ops/test_degrade_cuda.py where a GPU is available.
"""

from __future__ import annotations

import pytest
import torch
from emkit.ops import degrade_pair, warp_and_degrade
from emkit.ops._reference import reference_degrade

P = torch.tensor([[10.0, 8.0, 0.4, 1.2, 0.0, 1.5, 0.05, 0.0],
                  [12.0, 9.0, -1.0, 0.8, 1.0, 0.0, 0.0, 0.0],
                  [3.0, 15.0, 2.0, 1.0, 0.0, 0.8, 0.0, 20.0]])


@pytest.mark.parametrize("column", [0, 1, 2, 3])
def test_nan_geometry_matches_reference(cpu_isa, images, column):
    x = images((3, 2, 16, 20), torch.uint8)
    p = P.clone()
    p[0, column] = float("nan")
    p[2, column] = float("nan")
    clean, degraded = degrade_pair(x, p, (12, 14), 99)
    ref_clean, ref_degraded = reference_degrade(x, p, (12, 14), 99)
    assert torch.isfinite(clean).all()
    assert (clean.double() - ref_clean).abs().max().item() <= 1e-4
    err = (degraded.double() - ref_degraded).abs()
    assert (err > 1e-4).double().mean().item() <= 1e-3, err.max().item()


def test_nan_geometry_nearest_matches_reference(cpu_isa, images):
    x = images((3, 2, 16, 20), torch.float32)
    p = P.clone()
    p[1, 0] = float("nan")
    flags = dict(degrade_channels=[True, False], nearest_channels=[False, True])
    out = warp_and_degrade(x, p, (12, 14), 5, **flags)
    ref = reference_degrade(x, p, (12, 14), 5, **flags)[1]
    assert (out[:, 1].double() - ref[:, 1]).abs().max().item() == 0.0
