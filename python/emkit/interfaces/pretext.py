"""The ``Pretext`` contract: a self-supervised objective that trains a generator."""

from __future__ import annotations

import abc
from typing import Any

import torch
from torch import nn

from emkit.interfaces.generator import Generator
from emkit.interfaces.plugin import PluginBase


class Pretext(PluginBase, abc.ABC):
    """Self-supervised training around a generator (e.g. Pix2Pix restoration).

    The engine owns the loop, devices, checkpoints and logging; a pretext owns its
    extra networks (discriminator), optimizers and the step itself, because adversarial
    training needs more than one backward/step per batch.
    """

    #: Keys a batch must carry (checked against ``DataSource.provides`` + ``image``).
    requires: tuple[str, ...] = ("image",)

    #: Dataset used when the user names none (e.g. "synthetic-cem").
    default_data: str | None = None
    #: Defaults for the ``train`` section this objective works best with (a layer above
    #: the package defaults, below presets/YAML/CLI).
    train_defaults: dict[str, Any] = {}
    #: Named presets ({name: nested overrides}); ``preset=paper`` applies one.
    presets: dict[str, dict[str, Any]] = {}

    def __init__(self, config: Any, generator: Generator) -> None:
        self.config = config
        self.generator = generator
        self._forward: dict[str, nn.Module] = {}

    def bind(self, forward_modules: dict[str, nn.Module]) -> None:
        """Called by the engine with the modules to run forward passes through (wrapped in
        DDP and/or compiled where enabled); ``modules()`` keeps the raw ones."""
        self._forward = dict(forward_modules)

    def net(self, name: str) -> nn.Module:
        """The module ``name`` as it should be called in a step (wrapped when bound)."""
        return self._forward[name] if name in self._forward else self.modules()[name]

    @abc.abstractmethod
    def modules(self) -> dict[str, nn.Module]:
        """Every trainable module by name (includes ``generator``), for devices/checkpoints."""

    @abc.abstractmethod
    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Optimizers by name, created once after the modules are on their device; the
        pretext keeps them for its own steps and the engine checkpoints them."""

    @abc.abstractmethod
    def training_step(self, batch: dict[str, torch.Tensor], ctx: Any) -> dict[str, float]:
        """One optimisation step (backward and optimizer steps included); returns losses."""

    @abc.abstractmethod
    def validation_step(self, batch: dict[str, torch.Tensor], ctx: Any) -> dict[str, torch.Tensor]:
        """Per-sample metrics of one validation batch, each a 1-D tensor of length B."""

    def sample_panels(self, batch: dict[str, torch.Tensor], ctx: Any) -> dict[str, torch.Tensor]:
        """``{column title: (B, 1, H, W) in [0, 1]}`` shown side by side in sample grids."""
        return {}
