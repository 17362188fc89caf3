"""Build what the loop trains: a pretext plugin, or a task wrapped in ``TaskObjective``.

Both expose the same methods (modules, bind, configure_optimizers, training_step,
validation_step, sample_panels), so the loop has no pretext/task special cases.
"""

from __future__ import annotations

from typing import Any

import torch

from emkit import registry
from emkit.config import ResolvedConfig
from emkit.engine.generator_init import build_run_generator


def build_objective(cfg: ResolvedConfig) -> Any:
    """The pretext or task objective of ``cfg`` with its generator (weights initialised)."""
    pretext_name = cfg.plugin_name("pretext")
    if pretext_name is not None:
        generator = build_run_generator(cfg, out_channels=None)
        cls = registry.load("pretext", pretext_name)
        return cls(cfg.plugin_config("pretext"), generator)  # lr settled in config/settle.py
    task_name = cfg.plugin_name("task")
    if task_name is None:
        raise ValueError("config has neither a pretext nor a task")
    from emkit.engine.task_objective import TaskObjective

    task = registry.load("task", task_name)(cfg.plugin_config("task"))
    generator = build_run_generator(cfg, out_channels=task.out_channels)
    return TaskObjective(task, generator, cfg)


def forward_modules(objective: Any, device: torch.device, *, ddp: bool, compile_: bool,
                    channels_last: bool) -> None:
    """Move modules to ``device`` and bind the (DDP-wrapped / compiled) versions for steps."""
    wrapped: dict[str, torch.nn.Module] = {}
    for name, module in objective.modules().items():
        module.to(device)
        if channels_last:
            module.to(memory_format=torch.channels_last)
        fwd: torch.nn.Module = module
        if ddp and any(p.requires_grad for p in module.parameters()):
            from torch.nn.parallel import DistributedDataParallel

            fwd = DistributedDataParallel(
                module, device_ids=[device.index] if device.type == "cuda" else None,
                broadcast_buffers=True,
            )
        if compile_:
            fwd = torch.compile(fwd)
        wrapped[name] = fwd
    objective.bind(wrapped)
