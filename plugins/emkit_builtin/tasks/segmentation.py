"""The ``segmentation`` task: nanoparticle (binary) or multi-class segmentation.

Binary (``classes=2``): one output channel, BCE with logits, Dice and IoU of the
thresholded probability (the paper reports Dice). Multi-class: ``classes`` channels,
cross-entropy, Dice and IoU averaged over foreground classes. Training uses random
``crop``² crops (448 from 512 as in the paper) with the same geometry for image and mask
(nearest for the mask); validation and test use whole images.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
import torch.nn.functional as F

from emkit.config.ranges import ranged
from emkit.ops.augment import AugmentConfig, augment_pair
from emkit.interfaces import Task
from emkit.plugin_api import StepContext, to_model, to_unit

EPS = 1e-6


@dataclasses.dataclass
class SegmentationConfig:
    classes: int = ranged(2, 2, 1000)
    crop: int = ranged(448, 8, 8192)
    lr: float = ranged(2e-4, 0, 10, exclusive_min=True)
    threshold: float = ranged(0.5, 0, 1)
    #: Weight of the positive class in BCE (particles are often a minority).
    pos_weight: float = ranged(1.0, 0, None, exclusive_min=True)
    augment: AugmentConfig = dataclasses.field(default_factory=AugmentConfig)
    #: Weights of init=random runs: default (PyTorch per layer) | kaiming | pix2pix (N(0, 0.02)).
    random_init: Literal["default", "kaiming", "pix2pix"] = "default"
    #: Output head before the first step: "keep" = as initialised (default); "prior" = its
    #: bias shifted so the mean logit over training items is the loss-optimal constant for
    #: the classes' pixel frequencies (engine/init/output_prior.py). "keep" is the default because
    #: "prior" starts at "all background" and was slower in Dice at 30 steps on synthetic
    #: HRTEM (benchmarks/results/peers_ablation_cpu.md); the loss prefers it, the metric not.
    #: "bias" is the same as "prior" here (logits have no target spread).
    head_init: Literal["prior", "bias", "keep", "reset"] = "keep"

    def __post_init__(self) -> None:
        if self.classes < 2:
            raise ValueError(f"classes must be >= 2 (background + particles), got {self.classes}")


def overlap_scores(pred: torch.Tensor, truth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample Dice and IoU of boolean maps (B, ...); empty-vs-empty scores 1."""
    dims = tuple(range(1, pred.ndim))
    p, t = pred.float(), truth.float()
    inter = (p * t).sum(dims)
    total = p.sum(dims) + t.sum(dims)
    dice = (2 * inter + EPS) / (total + EPS)
    iou = (inter + EPS) / (total - inter + EPS)
    return dice, iou


class Segmentation(Task):
    Config = SegmentationConfig
    target_key = "mask"
    dataset_target = "segmentation"
    default_data = "synthetic-hrtem"
    pretrained_norm_stats = "update"  # frozen statistics slowed fine-tuning a mask head (engine/init/norm_stats.py)
    presets = {
        "paper": {"task": {"crop": 448, "head_init": "keep"}, "train": {"epochs": 60, "batch_size": 8}},
        #: The recommended recipe (evidence: benchmarks/results/peers_recipe_v2_reading.md): a
        #: U-Net B3 w16 from random init, pixel-exact augmentation (the warp blurs lattice
        #: fringes), Adam 1e-3 and best-by-validation weights. No pretext: on synthetic HRTEM
        #: particles init=self trailed random init early.
        "recommended": {"generator": {"name": "unet", "blocks": 3, "width": 16},
                        "task": {"augment": {"exact": True, "scale": [1.0, 1.0]}},
                        "train": {"lr": 1e-3, "keep_best": "val_dice"}},
    }

    @property
    def out_channels(self) -> int:
        return 1 if self.config.classes == 2 else self.config.classes

    def prepare_batch(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        image, mask = augment_pair(batch["image"], batch["mask"], crop=self.config.crop,
                                   ranges=self.config.augment.ranges(),
                                   exact=self.config.augment.exact, ctx=ctx, other_is_mask=True)
        return {"input": ctx.prepare(to_model(image)), "mask": mask.round().long(), "image": image}

    def prepare_eval_batch(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        image = to_unit(batch["image"])
        return {"input": to_model(image), "mask": batch["mask"].long(), "image": image}

    def output_prior(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Loss-optimal constant logits for the classes' pixel frequencies.

        Binary: the logit of p* = w·f / (w·f + 1 − f), where f is the particle fraction and
        w ``pos_weight`` (p* minimises the weighted BCE). Multi-class: log class frequencies.
        """
        mask = batch["mask"]
        if self.config.classes == 2:
            f = (mask > 0).float().mean().clamp(1e-3, 1 - 1e-3)
            w = self.config.pos_weight
            return torch.log(w * f / (1 - f)).reshape(1)
        counts = torch.bincount(mask.flatten().clamp(0, self.config.classes - 1), minlength=self.config.classes)
        freq = (counts.float() / counts.sum()).clamp_min(1e-3)
        return torch.log(freq)

    def loss(self, prediction: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        mask = batch["mask"]
        if self.config.classes == 2:
            weight = torch.tensor(self.config.pos_weight, device=prediction.device)
            return F.binary_cross_entropy_with_logits(prediction, (mask > 0).float(), pos_weight=weight)
        return F.cross_entropy(prediction, mask[:, 0])

    def predict_labels(self, prediction: torch.Tensor) -> torch.Tensor:
        if self.config.classes == 2:
            return (torch.sigmoid(prediction) > self.config.threshold).long()
        return prediction.argmax(1, keepdim=True)

    def metrics(self, prediction: torch.Tensor, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        labels = self.predict_labels(prediction)
        mask = batch["mask"]
        dices, ious = [], []
        for cls in range(1, self.config.classes):
            d, i = overlap_scores(labels == cls, mask == cls)
            dices.append(d)
            ious.append(i)
        out = {"dice": torch.stack(dices).mean(0), "iou": torch.stack(ious).mean(0)}
        if self.config.classes == 2:
            target = (mask > 0).float()
            out["bce"] = F.binary_cross_entropy_with_logits(prediction, target, reduction="none").mean((1, 2, 3))
        return out

    def sample_panels(self, prediction: torch.Tensor, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        scale = max(self.config.classes - 1, 1)
        image, truth = batch["image"].clamp(0, 1), batch["mask"].float() / scale
        if self.config.classes == 2:
            prob = torch.sigmoid(prediction)
            return {"image": image, "probability": prob, "mask (p > 0.5)": (prob > 0.5).float(), "true mask": truth}
        labels = prediction.argmax(1, keepdim=True).float() / scale
        return {"image": image, "predicted labels": labels, "true labels": truth}
