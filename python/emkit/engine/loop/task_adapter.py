"""Adapter that gives a ``Task`` plugin the objective interface the loop drives.

The task defines data preparation, loss and metrics; this adapter owns the generator's
single optimizer (with an optional learning-rate multiplier for the body and
``freeze=encoder``) and runs the forward/backward/step.
"""

from __future__ import annotations

import torch
from torch import nn

from emkit.config import ResolvedConfig
from emkit.config.settle import settled_lr
from emkit.engine.init.norm_stats import frozen_norms
from emkit.errors import ConfigError
from emkit.interfaces import Generator, Task
from emkit.plugin_api import BoundModules, StepContext


class TaskObjective(BoundModules):
    """A ``Task`` plugin as an ``emkit.plugin_api.Objective`` (one optimizer, engine-run steps)."""

    def __init__(self, task: Task, generator: Generator, cfg: ResolvedConfig) -> None:
        self.task = task
        self.generator = generator
        self.requires = ("image", task.target_key)
        self.dataset_target = task.dataset_target
        self.lr = settled_lr(cfg.train.lr, task.config)
        self.body_lr_mult = cfg.train.body_lr_mult
        self.freeze = cfg.train.freeze
        self._forward: dict[str, nn.Module] = {}
        self.optimizer: torch.optim.Optimizer | None = None
        self.frozen: list[nn.Module] = frozen_norms(cfg, generator)  # eval mode every step

    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator}

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        if self.freeze not in (None, "", "none"):
            if self.freeze != "encoder":
                raise ConfigError(f"Invalid value for 'freeze': expected encoder or null, got {self.freeze!r}")
            encoder = self.generator.encoder_modules()
            if not encoder:
                raise ConfigError(f"freeze=encoder: generator {type(self.generator).__name__} does not "
                                  "declare its encoder modules")
            for module in encoder:
                module.requires_grad_(False)
            self.frozen = self.frozen + encoder
        head_names = self.generator.head_parameter_names()
        head, body = [], []
        for name, param in self.generator.named_parameters():
            if param.requires_grad:
                (head if name in head_names else body).append(param)
        groups = [{"params": head, "lr": self.lr, "role": "head"}]
        if body:
            groups.append({"params": body, "lr": self.lr * self.body_lr_mult, "role": "body"})
        self.optimizer = torch.optim.Adam(groups, lr=self.lr, betas=(0.9, 0.999))
        return {"generator": self.optimizer}

    def training_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, float]:
        with ctx.data_timer():
            prepared = self.task.prepare_batch(batch, ctx)
        self.optimizer.zero_grad(set_to_none=True)
        for module in self.frozen:  # frozen BatchNorm keeps its pretrained statistics
            module.eval()
        with ctx.autocast():
            prediction = self.net()(ctx.prepare(prepared["input"]))
        loss = self.task.loss(prediction.float(), prepared)
        loss.backward()
        ctx.clip(self.generator.parameters())
        self.optimizer.step()
        return {"loss": loss.item()}

    def validation_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        prepared = self.task.prepare_eval_batch(batch, ctx)
        with ctx.autocast():
            prediction = self.generator(ctx.prepare(prepared["input"])).float()
        metrics = dict(self.task.metrics(prediction, prepared))
        return metrics

    def sample_panels(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        prepared = self.task.prepare_eval_batch(batch, ctx)
        with ctx.autocast():
            prediction = self.generator(ctx.prepare(prepared["input"])).float()
        return self.task.sample_panels(prediction, prepared)
