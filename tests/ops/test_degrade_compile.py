"""The ops are torch.library custom ops: schema/fake checks and a fullgraph torch.compile."""

from __future__ import annotations

import torch
from emkit.ops import (
    DegradeRanges,
    degrade_pair,
    sample_degrade_params,
    warp_and_degrade,
)
from emkit.ops import degrade as D


def inputs():
    x = torch.randint(0, 256, (2, 2, 20, 24), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    p = sample_degrade_params(2, (20, 24), (16, 18), DegradeRanges(dose_prob=0.5),
                              generator=torch.Generator().manual_seed(1))
    return x, p


def test_opcheck():
    x, p = inputs()
    torch.library.opcheck(D._degrade_pair_op, (x, p, 16, 18, 5, torch.float32))
    torch.library.opcheck(D._warp_and_degrade_op, (x, p, 16, 18, -3, torch.bfloat16, [True, False], [False, True]))


def test_fullgraph_compile_through_the_ops():
    x, p = inputs()

    @torch.compile(fullgraph=True, backend="aot_eager")
    def step(images, params, seed):
        clean, degraded = degrade_pair(images, params, (16, 18), seed)
        target = warp_and_degrade(images, params, (16, 18), seed, degrade_channels=[False, False],
                                  nearest_channels=[False, True])
        return degraded - clean, target

    for seed in (3, 4, 2**63 + 1):  # a new seed per step must not break the graph
        got = step(x, p, seed)
        clean, degraded = degrade_pair(x, p, (16, 18), seed)
        assert torch.equal(got[0], degraded - clean)
        assert got[1].shape == (2, 2, 16, 18)
