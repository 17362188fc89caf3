"""Behavioural contract checks for each plugin kind.

Kept dependency-free (no pytest) so ``emkit plugins validate`` can run them too. This
module holds the generator checks and ``check_config``; the other kinds' checks live in
``task_checks``, ``pretext_checks`` and ``data_checks``, the checks shared by all kinds in
``registration``, and ``runner`` puts them together (and holds ``validate_plugin``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from emkit import registry


def check_generator(name: str, *, size: int = 40, batch: int = 2, config: Any = None) -> None:
    """The ``Generator`` contract on ``name`` built from ``config`` (default: its defaults).

    Checks: any input size (``size × size+3``) maps to the same output size; every
    parameter gets a gradient; eval-mode outputs are per-sample (batch statistics are
    not used) and leave the input untouched; ``in_channels``/``out_channels`` are
    honoured when set in the config; the state dict survives a safetensors round trip;
    ``encoder_modules()`` are submodules outside the head; ``replace_head`` changes the
    output channels, updates the config and leaves every body tensor as it was;
    ``receptive_field`` is a positive int or None.
    """
    from emkit.models import build_generator

    torch.manual_seed(0)
    gen = build_generator(name, config)
    assert isinstance(gen.in_channels, int) and gen.in_channels >= 1, "in_channels must be a positive int"
    shape = (size, size + 3)
    x = torch.rand(batch, gen.in_channels, *shape)
    y = gen(x)
    assert y.shape == (batch, gen.out_channels, *shape), (
        f"forward returned {tuple(y.shape)} for input {tuple(x.shape)}; output size must equal input size"
    )
    assert torch.isfinite(y).all(), "forward produced non-finite values"
    y.float().mean().backward()
    missing = [n for n, p in gen.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"parameters without gradient: {', '.join(missing[:5])}"

    _check_eval_per_sample(gen, x)
    _check_channels(name, config)
    _check_safetensors_round_trip(name, config, gen, x)
    _check_encoder_modules(gen)

    head_names = gen.head_parameter_names()
    assert head_names, "head_parameter_names() is empty: `head` must own the output layer's weights"
    before = {k: v.clone() for k, v in gen.state_dict().items() if k not in head_names}
    gen.replace_head(gen.out_channels + 1)
    assert gen.config.out_channels == gen.out_channels, "replace_head must update config.out_channels"
    after = gen.state_dict()
    for key, value in before.items():
        assert key in after and torch.equal(after[key], value), f"replace_head changed body tensor {key!r}"
    y2 = gen(x)
    assert y2.shape == (batch, gen.out_channels, *shape), "replace_head did not change the output channels"
    rf = gen.receptive_field
    assert rf is None or (isinstance(rf, int) and not isinstance(rf, bool) and rf > 0), (
        "receptive_field must be a positive int or None"
    )


def _check_eval_per_sample(gen: Any, x: torch.Tensor) -> None:
    """In eval mode sample 0's output must not depend on the rest of the batch."""
    gen.eval()
    try:
        with torch.no_grad():
            x_before = x.clone()
            full = gen(x)
            assert torch.equal(x, x_before), "forward modified its input in place"
            single = gen(x[:1])
        assert torch.allclose(full[:1], single, rtol=1e-4, atol=1e-5), (
            "eval-mode output of a sample depends on the other samples of the batch"
        )
    finally:
        gen.train()


def _check_channels(name: str, config: Any) -> None:
    """``in_channels=3, out_channels=2`` in the config gives a 3 -> 2 network."""
    from emkit.config.coerce import to_dict
    from emkit.models import build_generator

    cls = registry.load("generator", name)
    base = to_dict(config) if config is not None else {}
    fields = {f.name for f in dataclasses.fields(cls.Config)}
    assert {"in_channels", "out_channels"} <= fields, "Config must have in_channels and out_channels fields"
    gen = build_generator(name, {**base, "in_channels": 3, "out_channels": 2}).eval()
    assert (gen.in_channels, gen.out_channels) == (3, 2), "in/out channels from the config were not honoured"
    with torch.no_grad():
        y = gen(torch.rand(1, 3, 17, 23))
    assert y.shape == (1, 2, 17, 23), f"3 -> 2 channel network returned {tuple(y.shape)} for (1, 3, 17, 23)"


def _check_safetensors_round_trip(name: str, config: Any, gen: Any, x: torch.Tensor) -> None:
    """``state_dict`` saved as safetensors loads (strictly) into a fresh build, same outputs."""
    from safetensors.torch import load, save

    from emkit.models import build_generator

    state = {k: v.detach() for k, v in gen.state_dict().items()}
    try:
        blob = save(state)
    except Exception as exc:  # noqa: BLE001 - the message is what the author needs
        raise AssertionError(f"state_dict cannot be saved as safetensors: {exc}") from exc
    fresh = build_generator(name, config)
    fresh.load_state_dict(load(blob), strict=True)
    gen.eval()
    fresh.eval()
    try:
        with torch.no_grad():
            assert torch.allclose(gen(x), fresh(x)), "a generator loaded from its saved state computes differently"
    finally:
        gen.train()


def _check_encoder_modules(gen: Any) -> None:
    """``encoder_modules()`` are the generator's own modules and exclude the head."""
    own = {id(m) for m in gen.modules()}
    head = {id(m) for m in gen.head.modules()}
    for module in gen.encoder_modules():
        assert id(module) in own, "encoder_modules() returned a module that is not part of the generator"
        assert not any(id(m) in head for m in module.modules()), "encoder_modules() must not contain the head"


def check_config(kind: str, name: str) -> None:
    cls = registry.load(kind, name)
    cfg = cls.Config()
    assert dataclasses.is_dataclass(cfg), "Config() must be a dataclass instance"
    from emkit.config.coerce import build_dataclass, to_dict

    rebuilt = build_dataclass(cls.Config, to_dict(cfg), kind)
    assert rebuilt == cfg, "Config does not round-trip through its plain-dict form (config.yaml)"

