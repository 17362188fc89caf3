"""Built-in generators: head replacement, pix2pix init, safetensors files, torch.compile."""

from __future__ import annotations

import os

import pytest
import torch
from safetensors.torch import load_file, save_file

from emkit.models import build_generator, generator_from_spec, generator_spec

SMALL = {
    "unet": {"blocks": 3, "width": 4},
    "hrnet": {"stem_width": 8, "stage1_width": 4, "widths": [4, 8, 8], "modules": [1, 1], "blocks": [1, 1],
              "decoder_widths": [8, 4, 4]},
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_replace_head_keeps_body_and_reinitialises_head(name):
    torch.manual_seed(0)
    gen = build_generator(name, SMALL[name]).double()
    body = {k: v.clone() for k, v in gen.state_dict().items() if not k.startswith("out_conv.")}
    old_head = gen.head
    gen.replace_head(3)
    assert gen.head is not old_head and gen.out_channels == gen.config.out_channels == 3
    assert gen.head.weight.dtype == torch.float64 and gen.head.in_channels == old_head.in_channels
    assert gen.head_parameter_names() == {"out_conv.weight", "out_conv.bias"}
    assert torch.count_nonzero(gen.head.bias) == 0 and 0 < gen.head.weight.std() < 0.1
    state = gen.state_dict()
    assert all(torch.equal(state[k], v) for k, v in body.items())
    assert gen(torch.rand(1, 1, 20, 20, dtype=torch.float64)).shape == (1, 3, 20, 20)


@pytest.mark.parametrize("name", ["unet", "hrnet"])
def test_pix2pix_init(name):
    gen = build_generator(name)
    convs = [m for m in gen.modules() if isinstance(m, torch.nn.Conv2d)]
    norms = [m for m in gen.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    weights = torch.cat([m.weight.flatten() for m in convs])
    scales = torch.cat([m.weight.flatten() for m in norms])
    assert abs(weights.mean()) < 1e-3 and abs(weights.std() - 0.02) < 1e-3
    assert abs(scales.mean() - 1) < 5e-3 and abs(scales.std() - 0.02) < 5e-3
    biases = [m.bias for m in convs if m.bias is not None] + [m.bias for m in norms]
    assert all(torch.count_nonzero(b) == 0 for b in biases)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_safetensors_file_round_trip(name, tmp_path):
    torch.manual_seed(0)
    gen = build_generator(name, {**SMALL[name], "out_channels": 2})
    gen(torch.rand(2, 1, 32, 32))  # move the batch-norm running statistics off their defaults
    gen.replace_head(4)
    path = tmp_path / "generator.safetensors"
    save_file(gen.state_dict(), str(path))
    rebuilt = generator_from_spec(generator_spec(name, gen))  # the spec carries out_channels=4
    rebuilt.load_state_dict(load_file(str(path)), strict=True)
    x = torch.rand(1, 1, 29, 35)
    gen.eval(), rebuilt.eval()
    with torch.no_grad():
        assert torch.equal(gen(x), rebuilt(x))


#: Smallest configurations that still contain every kind of layer (compile time grows with the graph).
TINY = {
    "unet": {"blocks": 2, "width": 4},
    "hrnet": {"stem_width": 8, "stage1_width": 4, "stage1_blocks": 1, "widths": [4, 8], "modules": [1], "blocks": [1],
              "decoder_widths": [8, 4, 4]},
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_torch_compile_traces_without_graph_breaks(name):
    """Dynamo captures forward + backward in one graph (``aot_eager`` avoids C++ builds)."""
    torch.manual_seed(0)
    gen = build_generator(name, TINY[name])
    compiled = torch.compile(gen, backend="aot_eager", fullgraph=True)
    x = torch.rand(2, 1, 35, 41)
    y = compiled(x)
    y.mean().backward()
    eager = build_generator(name, TINY[name])
    eager.load_state_dict(gen.state_dict())
    assert torch.allclose(y, eager(x), atol=1e-5)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("EMKIT_SLOW_TESTS"), reason="inductor compiles C++ (~30 s cold); set EMKIT_SLOW_TESTS=1"
)
def test_torch_compile_inductor():
    torch.manual_seed(0)
    gen = build_generator("unet", {"blocks": 2, "width": 4}).eval()
    x = torch.rand(2, 1, 35, 41)
    with torch.no_grad():
        assert torch.allclose(torch.compile(gen)(x), gen(x), atol=1e-5)
