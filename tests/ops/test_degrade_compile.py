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
    torch.library.opcheck(D._degrade_pair_op, (x, p, 16, 18, torch.tensor(5), torch.float32))
    torch.library.opcheck(D._warp_and_degrade_op, (x, p, 16, 18, torch.tensor(-3), torch.bfloat16, [True, False], [False, True]))


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


def test_seed_tensor_compiles_once_and_draws_new_noise_each_step():
    """A seed tensor is data, not a constant: one graph for every step, new noise each step."""
    import torch._dynamo

    x, p = inputs()
    p[:, 6] = 0.1  # Gaussian noise on every sample
    graphs = []

    def counting_backend(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    torch._dynamo.reset()

    @torch.compile(fullgraph=True, backend=counting_backend)
    def step(images, params, seed):
        return degrade_pair(images, params, (16, 18), seed)[1]

    seed = torch.zeros((), dtype=torch.int64)
    outs = []
    with torch._dynamo.config.patch(error_on_recompile=True):
        for s in range(1, 5):
            seed.fill_(s)
            outs.append(step(x, p, seed))
            assert torch.equal(outs[-1], degrade_pair(x, p, (16, 18), s)[1])
    assert len(graphs) == 1
    for a, b in zip(outs, outs[1:]):
        assert not torch.equal(a, b)


def test_seed_tensor_validation():
    import pytest

    x, p = inputs()
    with pytest.raises(ValueError, match="seed tensor must hold one int64"):
        degrade_pair(x, p, (16, 18), torch.zeros(2, dtype=torch.int64))
    with pytest.raises(ValueError, match="seed tensor must hold one int64"):
        degrade_pair(x, p, (16, 18), torch.tensor(1.0))
    a = degrade_pair(x, p, (16, 18), torch.tensor([2**63 - 1]))[1]
    assert torch.equal(a, degrade_pair(x, p, (16, 18), 2**63 - 1)[1])
