"""The ``Objective`` protocol: what the training loop drives, and the one ``net()`` convention.

A ``Pretext`` plugin is an objective itself; a ``Task`` plugin becomes one inside the
engine's ``TaskObjective`` adapter. The loop, evaluation, benchmarks and the contract kit
talk to both only through this protocol, so there are no pretext/task special cases.

``BoundModules`` is the shared ``bind`` / ``net`` pair: ``modules()`` holds the raw
modules (devices, checkpoints); the engine ``bind``s the versions a step should call
(wrapped in DDP and/or compiled where enabled) and ``net(name)`` returns them.
"""

from __future__ import annotations

from typing import Mapping, Protocol, runtime_checkable

import torch
from torch import nn

from emkit.plugin_api.context import StepContext

Batch = dict[str, torch.Tensor]


class BoundModules:
    """``bind`` / ``net`` for a class with ``modules()`` (mixed into ``Pretext`` and ``TaskObjective``)."""

    _forward: dict[str, nn.Module]

    def modules(self) -> dict[str, nn.Module]:  # pragma: no cover - provided by the subclass
        raise NotImplementedError

    def bind(self, forward_modules: Mapping[str, nn.Module]) -> None:
        """Called by the engine with the modules to run forward passes through (wrapped in
        DDP and/or compiled where enabled); ``modules()`` keeps the raw ones."""
        self._forward = dict(forward_modules)

    def net(self, name: str = "generator") -> nn.Module:
        """The module ``name`` as a training step should call it (the wrapped one once bound)."""
        forward = getattr(self, "_forward", {})
        return forward[name] if name in forward else self.modules()[name]


@runtime_checkable
class Objective(Protocol):
    """What the engine trains: modules, their optimizers and the step functions."""

    #: The network being trained (also ``modules()["generator"]``).
    generator: nn.Module
    #: Sample keys a batch must carry (checked against ``DataSource.provides`` + ``image``).
    requires: tuple[str, ...]
    #: Target a multi-target dataset should serve (``DataSource.select_target``), or None.
    dataset_target: str | None

    def modules(self) -> dict[str, nn.Module]:
        """Every trainable module by name (includes ``generator``), for devices/checkpoints."""
        ...

    def bind(self, forward_modules: Mapping[str, nn.Module]) -> None:
        """Receive the (DDP-wrapped / compiled) modules steps call through ``net``."""
        ...

    def net(self, name: str = "generator") -> nn.Module:
        """The module ``name`` as a step calls it."""
        ...

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Optimizers by name, created once after the modules are on their device."""
        ...

    def training_step(self, batch: Batch, ctx: StepContext) -> dict[str, float]:
        """One optimisation step (backward and optimizer steps included); returns float losses."""
        ...

    def validation_step(self, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        """Per-sample metrics of one evaluation batch, each a 1-D tensor of length B."""
        ...

    def sample_panels(self, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        """``{column title: (B, C, H, W) in [0, 1]}`` shown side by side in the labelled sample grid."""
        ...
