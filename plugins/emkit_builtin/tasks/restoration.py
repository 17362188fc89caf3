"""Restoration tasks: ``denoise``, ``background-removal`` and ``super-resolution``.

All three learn an image-to-image map with L1 + L2 loss (as in the paper) on the
TEMImageNet-style targets their name selects; metrics are L1 (the paper's), PSNR and
SSIM in [0, 1] image units (torchmetrics). Training uses random ``crop``² crops with the
same geometry for input and target; validation/test use whole images.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
import torch.nn.functional as F

from emkit.config.ranges import ranged
from emkit.ops.augment import AugmentConfig, augment_pair
from emkit.interfaces import Task
from emkit.plugin_api import StepContext, from_model, to_model, to_unit


@dataclasses.dataclass
class RestorationConfig:
    crop: int = ranged(256, 8, 8192)
    lr: float = ranged(2e-4, 0, 10, exclusive_min=True)
    l1_weight: float = ranged(1.0, 0, None)
    l2_weight: float = ranged(1.0, 0, None)
    channels: int = ranged(1, 1, 64)
    augment: AugmentConfig = dataclasses.field(default_factory=AugmentConfig)
    #: Weights of init=random runs: default (PyTorch per layer) | kaiming | pix2pix (N(0, 0.02)).
    random_init: Literal["default", "kaiming", "pix2pix"] = "default"
    #: Output head before the first step: "prior" = its bias shifted so the mean output over
    #: training items is the training targets' mean and, from random init, its weights scaled
    #: so the output's spread is a tenth of the targets' (engine/init/output_prior.py);
    #: "bias" = only the bias shift; "keep" = as initialised.
    head_init: Literal["prior", "bias", "keep", "reset"] = "prior"


class Restoration(Task):
    """Shared implementation; subclasses only choose the dataset target."""

    Config = RestorationConfig
    target_key = "target"
    default_data = "synthetic-stem"
    presets = {
        "paper": {"task": {"crop": 256, "head_init": "keep"}, "train": {"epochs": 60, "batch_size": 16}},
        #: The recommended recipe (evidence: benchmarks/results/peers_recipe_v2_reading.md): a
        #: U-Net of CARE's depth and width (B2 w32) from random init, pixel-exact augmentation
        #: (the warp smooths the input noise), Adam 1e-3 and best-by-validation weights. At
        #: lr 1e-3 random init beat init=self at every step on synthetic STEM, so no pretext.
        "recommended": {"generator": {"name": "unet", "blocks": 2, "width": 32},
                        "task": {"augment": {"exact": True, "scale": [1.0, 1.0]}},
                        "train": {"lr": 1e-3, "keep_best": "val_l1"}},
    }

    @property
    def out_channels(self) -> int:
        return self.config.channels

    def prepare_batch(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        image, target = augment_pair(batch["image"], batch["target"], crop=self.config.crop,
                                     ranges=self.config.augment.ranges(),
                                     exact=self.config.augment.exact, ctx=ctx, other_is_mask=False)
        return {"input": ctx.prepare(to_model(image)), "target": target, "image": image}

    def prepare_eval_batch(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        image = to_unit(batch["image"])
        return {"input": to_model(image), "target": to_unit(batch["target"]), "image": image}

    def output_prior(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The training targets' mean per channel in model space (the L2-optimal constant)."""
        return to_model(batch["target"].float()).mean((0, 2, 3))

    def output_spread(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The training targets' standard deviation per channel in model space."""
        return to_model(batch["target"].float()).std((0, 2, 3))

    def loss(self, prediction: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        target = to_model(batch["target"])
        return (self.config.l1_weight * F.l1_loss(prediction, target) +
                self.config.l2_weight * F.mse_loss(prediction, target))

    def metrics(self, prediction: torch.Tensor, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

        restored = from_model(prediction).clamp(0, 1)
        target = batch["target"].float().clamp(0, 1)
        dims = (1, 2, 3)
        return {
            "l1": (restored - target).abs().mean(dims),
            "l1_identity": (batch["image"].float() - target).abs().mean(dims),
            "psnr": peak_signal_noise_ratio(restored, target, data_range=1.0, reduction="none", dim=dims),
            "ssim": structural_similarity_index_measure(restored, target, data_range=1.0, reduction="none"),
        }

    def sample_panels(self, prediction: torch.Tensor, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        restored, target = from_model(prediction).clamp(0, 1), batch["target"].clamp(0, 1)
        return {"input": batch["image"].clamp(0, 1), "restored": restored, "target": target,
                "|error| x4": ((restored - target).abs() * 4).clamp(0, 1)}


class Denoise(Restoration):
    dataset_target = "denoise"


class BackgroundRemoval(Restoration):
    dataset_target = "background-removal"


class SuperResolution(Restoration):
    dataset_target = "super-resolution"
