"""Keep a pretrained generator's normalisation statistics while fine-tuning.

Measured on emkit's synthetic tasks (``benchmarks/studies/fair_baseline.py``): the first-epoch
jump of a fine-tuned pretrained U-Net (validation L1 0.21 -> 0.31 on background removal)
is caused by its BatchNorm layers, not by the step size. Training-mode BatchNorm
normalises with the statistics of small downstream batches and overwrites the pretrained
running statistics within a few steps; six training-mode forward passes without any
weight update already move validation L1 from 0.21 to 0.26, and learning-rate warm-up
does not change that. Keeping the norms in evaluation mode (running statistics frozen;
their scale and shift still train) fine-tunes the function that was pretrained.

That holds for restoration. For segmentation it does not: frozen statistics kept a
pretrained (``init=self``) U-Net B2 w8 on synthetic HRTEM at test Dice 0.000 / 0.443 /
0.801 after 30 / 90 / 180 steps, against 0.330 / 0.786 / 0.858 with updated statistics
(3 seeds, benchmarks/results/peers_cpu.md): a mask head needs features re-normalised for
a new output, not the restoration function kept.

``train.norm_stats``: ``frozen`` | ``update`` | unset = from random init ``update`` (a
random network has no statistics worth keeping); from pretrained weights (``init=`` a
run, weights file or ``self``) the task's ``pretrained_norm_stats`` (``frozen`` unless
the task says otherwise; segmentation says ``update``).
"""

from __future__ import annotations

from typing import Any

from torch import nn

MODES = ("frozen", "update")


def norm_stats_mode(cfg: Any) -> str:
    """The effective ``train.norm_stats`` of a downstream run."""
    mode = getattr(cfg.train, "norm_stats", None)
    if mode is not None:
        return mode
    if cfg.run.init in (None, "", "random"):
        return "update"
    task = cfg.plugin_name("task") if hasattr(cfg, "plugin_name") else None
    if task is None:
        return "frozen"
    from emkit import registry

    return getattr(registry.load("task", task), "pretrained_norm_stats", "frozen")


def frozen_norms(cfg: Any, generator: nn.Module) -> list[nn.Module]:
    """Norm layers the task loop keeps in eval mode (empty when statistics update)."""
    if norm_stats_mode(cfg) != "frozen":
        return []
    return [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
