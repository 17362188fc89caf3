"""The ``Pretext`` contract: a self-supervised objective that trains a generator."""

from __future__ import annotations

import abc
from typing import Any

import torch
from torch import nn

from emkit.interfaces.generator import Generator
from emkit.interfaces.plugin import PluginBase
from emkit.plugin_api.context import StepContext
from emkit.plugin_api.objective import BoundModules


class Pretext(BoundModules, PluginBase, abc.ABC):
    """Self-supervised training around a generator (e.g. Pix2Pix restoration).

    The engine owns the loop, devices, checkpoints and logging; a pretext owns its
    extra networks (discriminator), optimizers and the step itself, because adversarial
    training needs more than one backward/step per batch. A pretext is an
    ``emkit.plugin_api.Objective``; call modules in a step through ``self.net(name)``.
    """

    #: Keys a batch must carry (checked against ``DataSource.provides`` + ``image``).
    requires: tuple[str, ...] = ("image",)
    #: Target a multi-target dataset should serve (pretexts learn from images: None).
    dataset_target: str | None = None

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

    @abc.abstractmethod
    def modules(self) -> dict[str, nn.Module]:
        """Every trainable module by name (includes ``generator``), for devices/checkpoints."""

    @abc.abstractmethod
    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Optimizers by name, created once after the modules are on their device; the
        pretext keeps them for its own steps and the engine checkpoints them."""

    @abc.abstractmethod
    def training_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, float]:
        """One optimisation step (backward and optimizer steps included); returns losses."""

    @abc.abstractmethod
    def validation_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        """Per-sample metrics of one validation batch, each a 1-D tensor of length B."""

    def sample_panels(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        """``{column title: (B, 1, H, W) in [0, 1]}`` shown side by side in sample grids."""
        return {}
