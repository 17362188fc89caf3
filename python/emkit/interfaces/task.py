"""The ``Task`` contract: a supervised downstream objective (segmentation, denoising, ...)."""

from __future__ import annotations

import abc
from typing import Any

import torch

from emkit.interfaces.plugin import PluginBase
from emkit.plugin_api.context import StepContext
from emkit.plugin_api.image_space import to_model, to_unit


class Task(PluginBase, abc.ABC):
    """A supervised objective fine-tuning a generator on a small labelled set.

    The engine owns the optimizer (one), the loop and checkpoints; the task says how
    many output channels the generator needs, which target the dataset must provide,
    how to augment a batch, and defines the loss and the metrics.
    """

    #: Sample key the task learns from: "target" (restoration) or "mask" (segmentation).
    target_key: str = "target"
    #: Which target a multi-target dataset should serve (``DataSource.select_target``):
    #: "denoise", "background-removal", "super-resolution", "segmentation" or None.
    dataset_target: str | None = None

    #: Dataset used when the user names none (e.g. "synthetic-hrtem").
    default_data: str | None = None
    #: Defaults for the ``train`` section (see ``Pretext.train_defaults``).
    train_defaults: dict[str, Any] = {}
    #: BatchNorm statistics when fine-tuning pretrained weights and ``train.norm_stats`` is
    #: unset: "frozen" (keep the pretrained ones) or "update" (engine/init/norm_stats.py).
    pretrained_norm_stats: str = "frozen"
    #: Named presets ({name: nested overrides}); ``preset=paper`` applies one.
    presets: dict[str, dict[str, Any]] = {}

    def __init__(self, config: Any) -> None:
        self.config = config

    @property
    @abc.abstractmethod
    def out_channels(self) -> int:
        """Generator output channels this task needs."""

    def prepare_batch(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        """Augment a training batch on the device; return it with ``input``, the generator's
        input in model space (default: the image scaled to [0, 1], then ``2x - 1``)."""
        return {**batch, "input": to_model(to_unit(batch["image"]))}

    def prepare_eval_batch(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        """Like ``prepare_batch`` without random augmentation (validation/test)."""
        return {**batch, "input": to_model(to_unit(batch["image"]))}

    def output_prior(self, batch: dict[str, torch.Tensor]) -> torch.Tensor | None:
        """The constant raw output (one value per output channel) that best fits the
        targets of ``batch`` (prepared by ``prepare_eval_batch``, training items), or None.

        Before the first step the engine shifts the generator head's bias so the mean
        output over a few training items equals this (``head_init=prior`` in the task
        config; engine/init/output_prior.py): an untrained model then predicts the target mean
        (restoration) or the foreground rate (segmentation) instead of whatever a zero
        output means, which is what CARE gets from standardising its targets.
        """
        return None

    def output_spread(self, batch: dict[str, torch.Tensor]) -> torch.Tensor | None:
        """The targets' spread (standard deviation per output channel, model space) of a
        batch like ``output_prior``'s, or None when outputs have no natural spread (logits).

        With ``head_init=prior`` and random init the engine scales the head's weights so the
        untrained output varies by a tenth of this around the prior: it starts near the
        constant instead of adding random structure the size of the signal.
        """
        return None

    @abc.abstractmethod
    def loss(self, prediction: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Scalar training loss of the generator's raw output."""

    @abc.abstractmethod
    def metrics(self, prediction: torch.Tensor, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Per-sample metrics (1-D tensors of length B) of one evaluation batch."""

    def sample_panels(self, prediction: torch.Tensor, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``{column title: (B, 1, H, W) in [0, 1]}`` for the sample grid (e.g. image, restored, clean)."""
        return {}
