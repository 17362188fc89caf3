"""Every registered generator — built-in or third-party — passes ``check_generator``.

Plus shape contracts of the built-ins at the sizes EM data comes in (224 CEM500K,
256 TEMImageNet, 448, odd sizes) with several channel counts, forward and backward.
"""

from __future__ import annotations

import pytest
import torch

from emkit import registry
from emkit.models import build_generator
from emkit.testing import check_config, check_generator, validate_plugin

GENERATORS = registry.available("generator")

#: Small configurations of the built-ins, so the shape sweep stays fast on a CPU.
SMALL = {
    "unet-2": ("unet", {"blocks": 2, "width": 4}),
    "unet-4-424": ("unet", {"blocks": 4, "rf": 424, "width": 2}),
    "hrnet": (
        "hrnet",
        {"stem_width": 8, "stage1_width": 4, "widths": [4, 8, 8, 8], "modules": [1, 1, 1], "blocks": [1, 1, 1],
         "decoder_widths": [8, 4, 4]},
    ),
}


def test_builtins_are_registered():
    assert {"unet", "hrnet"} <= set(GENERATORS)


@pytest.mark.parametrize("name", GENERATORS)
def test_contract_with_default_config(name):
    check_config("generator", name)
    check_generator(name)


@pytest.mark.parametrize("key", sorted(SMALL))
def test_contract_with_small_config(key):
    name, config = SMALL[key]
    check_generator(name, config=config, size=33)


@pytest.mark.parametrize("name", ["unet", "hrnet"])
def test_validate_plugin_reports_no_problems(name):
    assert validate_plugin("generator", name) == []


@pytest.mark.parametrize("key", sorted(SMALL))
@pytest.mark.parametrize(
    "shape, cin, cout",
    [((224, 224), 1, 1), ((256, 256), 1, 2), ((448, 448), 3, 1), ((37, 61), 2, 3), ((5, 9), 1, 1)],
    ids=["224", "256-seg2", "448-rgb", "odd", "tiny"],
)
def test_forward_backward_shapes(key, shape, cin, cout):
    name, config = SMALL[key]
    torch.manual_seed(0)
    gen = build_generator(name, {**config, "in_channels": cin, "out_channels": cout})
    x = torch.randn(2, cin, *shape, requires_grad=True)
    y = gen(x)
    assert y.shape == (2, cout, *shape) and y.dtype == x.dtype
    y.square().mean().backward()
    assert x.grad is not None and x.grad.shape == x.shape and torch.isfinite(x.grad).all()
    assert all(p.grad is not None for p in gen.parameters())


@pytest.mark.parametrize("key", sorted(SMALL))
def test_wrong_channel_count_is_a_clear_error(key):
    name, config = SMALL[key]
    gen = build_generator(name, config)
    with pytest.raises(ValueError, match=r"expects input \(N, 1, H, W\)"):
        gen(torch.rand(1, 3, 32, 32))
