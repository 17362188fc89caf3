"""Parameter count, receptive field and GFLOPs of a generator (``emkit plugins show``)."""

from __future__ import annotations

from typing import Any

import torch


def count_parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def forward_flops(module: torch.nn.Module, x: torch.Tensor) -> int:
    """FLOPs of one forward pass (multiply-add = 2 FLOPs), counted by torch's FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        module(x)
    return int(counter.get_total_flops())


def summarize_generator(cfg: Any, size: int) -> dict[str, Any]:
    """Build the configured generator and report its size and cost at ``size``²."""
    from emkit.models.build import build_generator

    name = cfg.plugin_name("generator")
    gen = build_generator(name, cfg.plugin_config("generator")).eval()
    x = torch.zeros(1, gen.in_channels, size, size)
    flops = forward_flops(gen, x)
    rf = gen.receptive_field
    return {
        "generator": name,
        "class": f"{type(gen).__module__}.{type(gen).__qualname__}",
        "in/out channels": f"{gen.in_channels} -> {gen.out_channels}",
        "parameters": f"{count_parameters(gen):,}",
        "receptive field": "unbounded" if rf is None else f"{rf} px",
        f"GFLOPs @ {size}x{size}": f"{flops / 1e9:.3f}",
    }
