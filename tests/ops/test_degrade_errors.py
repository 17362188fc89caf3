"""Bad inputs raise ValueError naming the argument and what was expected."""

from __future__ import annotations

import pytest
import torch
from emkit.ops import degrade_pair, warp_and_degrade
from emkit.ops.validation import MAX_UPSCALE

X = torch.zeros(2, 1, 16, 20, dtype=torch.uint8)
P = torch.zeros(2, 8)
P[:, 3] = 1.0


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        (dict(images=X.numpy()), "images"),
        (dict(images=X[0]), "images"),
        (dict(images=X.to(torch.int32)), "images"),
        (dict(images=X.double()), "images"),
        (dict(images=X[:0], params=P[:0]), "images"),
        (dict(images=X.transpose(2, 3)), "images"),
        (dict(images=torch.zeros(2, 1, 16, 20, device="meta")), "images"),
        (dict(params=P[:, :7]), "params"),
        (dict(params=torch.zeros(3, 8)), "params"),
        (dict(params=P.double()), "params"),
        (dict(params=P.t().contiguous().t()), "params"),
        (dict(params=P.to("meta")), "params"),
        (dict(params=[[0.0] * 8] * 2), "params"),
        (dict(output_size=(0, 8)), "output_size"),
        (dict(output_size=(8, -1)), "output_size"),
        (dict(output_size=(8,)), "output_size"),
        (dict(output_size=(8.0, 8)), "output_size"),
        (dict(output_size=(16 * MAX_UPSCALE + 1, 8)), "output_size"),
        (dict(output_size=(8, 20 * MAX_UPSCALE + 1)), "output_size"),
        (dict(seed=-1), "seed"),
        (dict(seed=2**64), "seed"),
        (dict(seed=1.5), "seed"),
        (dict(seed=True), "seed"),
        (dict(out_dtype=torch.float16), "out_dtype"),
    ],
)
@pytest.mark.parametrize("fn", [degrade_pair, warp_and_degrade])
def test_bad_arguments_name_themselves(fn, kwargs, argument):
    args = dict(images=X, params=P, output_size=(8, 8), seed=0) | kwargs
    with pytest.raises(ValueError, match=argument):
        fn(args.pop("images"), args.pop("params"), args.pop("output_size"), args.pop("seed"), **args)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        (dict(degrade_channels=[True, False]), "degrade_channels"),
        (dict(degrade_channels="1"), "degrade_channels"),
        (dict(nearest_channels=torch.tensor([True])), "nearest_channels"),
        (dict(nearest_channels=[]), "nearest_channels"),
        (dict(degrade_channels=[True], nearest_channels=[True]), "degrade_channels and nearest_channels"),
    ],
)
def test_bad_channel_flags(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        warp_and_degrade(X, P, (8, 8), 0, **kwargs)


def test_limits_are_inclusive():
    out = degrade_pair(X, P, (16 * MAX_UPSCALE, 20 * MAX_UPSCALE), 2**64 - 1)[0]
    assert out.shape == (2, 1, 64, 80)
    assert warp_and_degrade(X, P, 8, 0).shape == (2, 1, 8, 8)  # an int is a square size


def test_not_differentiable():
    x = torch.rand(2, 1, 16, 20, requires_grad=True)
    _, degraded = degrade_pair(x, P, (8, 8), 0)
    with pytest.raises(RuntimeError, match="autograd"):
        degraded.sum().backward()


@pytest.mark.parametrize("column", range(8))
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1e30])
def test_absurd_parameter_values_do_not_crash(column, value):
    """Parameters are data (possibly on a GPU), so they are not validated: they must be safe."""
    p = P.clone()
    p[:, 0], p[:, 1] = 10.0, 8.0
    p[0, column] = value
    clean, degraded = degrade_pair(X, p, (12, 12), 0)
    assert torch.isfinite(clean[1]).all() and torch.isfinite(degraded[1]).all()
