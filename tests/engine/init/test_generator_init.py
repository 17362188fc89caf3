"""init=<weights>: the body is loaded exactly, heads are replaced, mismatches are named."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from emkit.config import resolve
from emkit.engine.init.generator_init import build_run_generator
from emkit.engine.runs.weights import export_generator, read_spec
from emkit.errors import EmkitError
from emkit.models import build_generator, generator_spec


@pytest.fixture
def tiny(fake_plugins):
    fake_plugins(("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "tinydist"))


def _export(tmp_path, width=4):
    torch.manual_seed(3)
    gen = build_generator("tiny", {"width": width})
    export_generator(tmp_path, generator_spec("tiny", gen), gen)
    return gen


def test_body_loaded_tensor_by_tensor_and_head_replaced(tiny, tmp_path):
    pre = _export(tmp_path)
    cfg = resolve(["generator=tiny", f"init={tmp_path}"])
    gen = build_run_generator(cfg, out_channels=3)
    assert gen.out_channels == 3 and gen.config.out_channels == 3
    body = {k: v for k, v in pre.state_dict().items() if k not in pre.head_parameter_names()}
    now = gen.state_dict()
    for key, value in body.items():
        assert torch.equal(now[key], value), key
    assert now["_head.weight"].shape[0] == 3


def test_lone_safetensors_file_carries_its_spec(tiny, tmp_path):
    _export(tmp_path)
    (tmp_path / "generator.json").unlink()
    assert read_spec(tmp_path / "generator.safetensors")["name"] == "tiny"


def test_architecture_mismatch_names_layers(tiny, tmp_path):
    pre = _export(tmp_path, width=4)
    spec = generator_spec("tiny", pre)
    spec["config"]["width"] = 8  # claims a wider body than the tensors hold
    export_generator(tmp_path / "bad", spec, pre)
    cfg = resolve(["generator=tiny", f"init={tmp_path / 'bad'}"])
    with pytest.raises(EmkitError, match=r"body.0.weight \(4, 1, 3, 3\) vs \(8, 1, 3, 3\)"):
        build_run_generator(cfg, out_channels=None)


def test_missing_weights_are_reported(tiny, tmp_path):
    cfg = resolve(["generator=tiny", f"init={tmp_path / 'nope'}"])
    with pytest.raises(EmkitError, match="no such run directory"):
        build_run_generator(cfg, out_channels=None)
    cfg = dataclasses.replace(cfg)
    cfg.run = dataclasses.replace(cfg.run, init=str(tmp_path))
    with pytest.raises(EmkitError, match="has no generator.safetensors"):
        build_run_generator(cfg, out_channels=None)


def test_head_init_reset_gives_a_pretrained_body_a_fresh_head(tmp_path):
    """``task.head_init=reset``: the body is the pretrained one, the head PyTorch's default init (not the
    pretrained restoration head, and not a copy of it when the output width already fits)."""
    torch.manual_seed(3)
    pre = build_generator("unet", {"blocks": 2, "width": 4})
    with torch.no_grad():
        pre.head.weight.fill_(0.5)
    export_generator(tmp_path, generator_spec("unet", pre), pre)
    base = ["task=segmentation", "generator=unet", "data=synthetic-hrtem", f"init={tmp_path}"]
    kept = build_run_generator(resolve(base), out_channels=1)
    assert torch.equal(kept.head.weight, pre.head.weight)
    fresh = build_run_generator(resolve([*base, "task.head_init=reset"]), out_channels=1)
    head = fresh.head_parameter_names()
    for key, value in pre.state_dict().items():
        if key not in head:
            assert torch.equal(fresh.state_dict()[key], value), key
    bound = 1 / fresh.head.weight[0].numel() ** 0.5  # Kaiming-uniform(a=√5) of a 1×1 conv: U(±1/√fan_in)
    assert not torch.equal(fresh.head.weight, pre.head.weight) and fresh.head.weight.abs().max() <= bound
    assert fresh.head.weight.std() > 0.2 * bound
