"""Build what the loop trains and set it up for stepping, in one place.

``build_objective(cfg)``: a pretext plugin, or a task wrapped in ``TaskObjective``; both
satisfy ``emkit.plugin_api.Objective``, so the loop has no pretext/task special cases.
``prepare_objective(objective, device, ...)``: modules on the device and bound (DDP /
compile / channels_last), optimizers configured and the ``StepContext`` the steps get --
the sequence the trainer, ``emkit eval``, the benchmarks and the contract kit share.
"""

from __future__ import annotations

import dataclasses

import torch

from emkit import registry
from emkit.config import ResolvedConfig
from emkit.engine.runtime.devices import autocast_factory
from emkit.engine.init.generator_init import build_run_generator
from emkit.plugin_api import Objective, StepContext


@dataclasses.dataclass
class PreparedObjective:
    """An objective ready to step: its optimizers and the step context."""

    objective: Objective
    optimizers: dict[str, torch.optim.Optimizer]
    ctx: StepContext


def build_objective(cfg: ResolvedConfig) -> Objective:
    """The pretext or task objective of ``cfg`` with its generator (weights initialised)."""
    pretext_name = cfg.plugin_name("pretext")
    if pretext_name is not None:
        generator = build_run_generator(cfg, out_channels=None)
        cls = registry.load("pretext", pretext_name)
        return cls(cfg.plugin_config("pretext"), generator)  # lr settled in config/settle.py
    task_name = cfg.plugin_name("task")
    if task_name is None:
        raise ValueError("config has neither a pretext nor a task")
    from emkit.engine.loop.task_adapter import TaskObjective

    task = registry.load("task", task_name)(cfg.plugin_config("task"))
    generator = build_run_generator(cfg, out_channels=task.out_channels)
    return TaskObjective(task, generator, cfg)


def forward_modules(objective: Objective, device: torch.device, *, ddp: bool, compile_: bool,
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

            from emkit.engine.runtime.distributed import ddp_options

            fwd = DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None,
                                          **ddp_options())
        if compile_:
            fwd = torch.compile(fwd)
        wrapped[name] = fwd
    objective.bind(wrapped)


def prepare_objective(objective: Objective, device: torch.device, *, precision: str = "fp32", ddp: bool = False,
                      compile_: bool = False, channels_last: bool = False,
                      grad_clip: float | None = None) -> PreparedObjective:
    """Modules on ``device`` and bound, optimizers configured, and the step context.

    ``precision`` is ``train.precision`` (``auto`` = bf16 autocast on CUDA, fp32 on the CPU).
    """
    forward_modules(objective, device, ddp=ddp, compile_=compile_, channels_last=channels_last)
    optimizers = objective.configure_optimizers()
    ctx = StepContext(device=device, autocast=autocast_factory(device, precision), channels_last=channels_last,
                      grad_clip=grad_clip)
    return PreparedObjective(objective, optimizers, ctx)
