"""Behavioural contract checks for each plugin kind.

Kept dependency-free (no pytest) so ``emkit plugins validate`` can run them too. Each
``check_<kind>`` builds the plugin from its default config and exercises it on tiny
synthetic input; ``validate_plugin`` collects the failures as strings.
"""

from __future__ import annotations

import dataclasses
import traceback
from typing import Callable

import torch

from emkit import registry


def check_generator(name: str, *, size: int = 40, batch: int = 2) -> None:
    """Forward/backward at an odd-ish size, output shape, head replacement keeps the body."""
    from emkit.models import build_generator

    gen = build_generator(name)
    assert isinstance(gen.in_channels, int) and gen.in_channels >= 1, "in_channels must be a positive int"
    x = torch.rand(batch, gen.in_channels, size, size + 3)
    y = gen(x)
    assert y.shape == (batch, gen.out_channels, size, size + 3), (
        f"forward returned {tuple(y.shape)} for input {tuple(x.shape)}; output size must equal input size"
    )
    y.float().mean().backward()
    grads = [p.grad for p in gen.parameters() if p.requires_grad]
    assert grads and all(g is not None for g in grads), "every parameter must receive a gradient"
    head_names = gen.head_parameter_names()
    assert head_names, "head_parameter_names() is empty: `head` must own the output layer's weights"
    before = {k: v.clone() for k, v in gen.state_dict().items() if k not in head_names}
    gen.replace_head(gen.out_channels + 1)
    assert gen.config.out_channels == gen.out_channels, "replace_head must update config.out_channels"
    after = gen.state_dict()
    for key, value in before.items():
        assert key in after and torch.equal(after[key], value), f"replace_head changed body tensor {key!r}"
    y2 = gen(x)
    assert y2.shape[1] == gen.out_channels, "replace_head did not change the output channels"
    rf = gen.receptive_field
    assert rf is None or (isinstance(rf, int) and rf > 0), "receptive_field must be a positive int or None"


def check_config(kind: str, name: str) -> None:
    cls = registry.load(kind, name)
    cfg = cls.Config()
    assert dataclasses.is_dataclass(cfg), "Config() must be a dataclass instance"
    from emkit.config.coerce import build_dataclass, to_dict

    rebuilt = build_dataclass(cls.Config, to_dict(cfg), kind)
    assert rebuilt == cfg, "Config does not round-trip through its plain-dict form (config.yaml)"


CHECKS: dict[str, list[Callable[[str], None]]] = {
    "generator": [check_generator],
    "pretext": [],
    "task": [],
    "data": [],
}


def validate_plugin(kind: str, name: str) -> list[str]:
    """Run every check for ``kind`` on plugin ``name``; return failure messages."""
    problems: list[str] = []
    checks: list[Callable[[str], None]] = [lambda n: check_config(kind, n), *CHECKS.get(kind, [])]
    for check in checks:
        try:
            check(name)
        except AssertionError as exc:
            problems.append(str(exc) or f"{getattr(check, '__name__', 'check')} failed")
        except Exception as exc:  # noqa: BLE001 - any crash of plugin code is a failure
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            problems.append(f"{type(exc).__name__}: {exc} (at {tb.filename}:{tb.lineno})")
    return problems
