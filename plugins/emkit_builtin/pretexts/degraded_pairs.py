"""What the built-in image-to-image pretexts share: pairs from the fused degradation op.

``pix2pix``, ``restore`` and ``masked`` all train the generator to map a corrupted crop
back to its clean version. The corruption starts the same way for every one: the fused
op (``emkit.ops.degrade_pair``) cuts a random crop of each image -- rotated, rescaled,
flipped -- and writes it twice, clean and blurred/noised, in one pass on the training
device. This module holds that step and everything around it that does not depend on
the loss:

* ``PairConfig``: the fields every such pretext has (crop, Adam settings, degradation
  ranges), with one range check;
* ``make_pairs``: the (clean, degraded) crops in generator space;
* ``DegradationPretext``: the ``Pretext`` base with the generator's Adam, the
  validation metrics (L1 of the restored crop and of the corrupted input, in [0, 1]
  units, so every pretext reports the same columns) and the sample panels.

A subclass names its corruption (``corrupt``; default: the degraded crop) and its
training step.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import torch

from emkit.config.ranges import ranged
from emkit.interfaces import Pretext
from emkit.ops import DegradeRanges, degrade_pair, sample_degrade_params
from emkit.plugin_api import StepContext, from_model, to_model


@dataclasses.dataclass
class PairConfig:
    """Options every degradation-based pretext has (``pretext.<field>=...``)."""

    #: Side of the square training crops (the paper uses 256).
    crop: int = ranged(128, 16, 8192)
    lr: float = ranged(2e-4, 0, 10, exclusive_min=True)
    #: Adam's betas; pix2pix's 0.5 is kept for every pretext, so the pretexts differ only
    #: in their corruption and loss.
    beta1: float = ranged(0.5, 0, 1, exclusive_max=True)
    beta2: float = ranged(0.999, 0, 1, exclusive_max=True)
    #: Degradation ranges (see emkit.ops.DegradeRanges for each field and its default).
    degrade: DegradeRanges = dataclasses.field(default_factory=DegradeRanges)
    #: The generator's starting weights: ``default`` (PyTorch's per-layer init, what
    #: ``init=random`` fine-tuning starts from), ``kaiming`` or ``pix2pix`` (N(0, 0.02), the
    #: reference GAN's). ``default`` because it transfers better: U-Net B2 w8 pretrained by
    #: pix2pix on synthetic HRTEM's 24 training images (300 steps) then fine-tuned on its
    #: particles scored test Dice 0.38 / 0.81 / 0.87 after 30 / 90 / 180 steps from
    #: ``default`` against 0.30 / 0.73 / 0.80 from ``pix2pix`` (3 seeds, 8 of 9 paired cells
    #: better; benchmarks/results/pretext_study_cpu.md repeats it on every task).
    random_init: Literal["default", "kaiming", "pix2pix"] = "default"

    def __post_init__(self) -> None:
        if self.crop < 16:
            raise ValueError(f"crop must be at least 16 pixels, got {self.crop}")


def make_pairs(images: torch.Tensor, crop: int, ranges: DegradeRanges,
               ctx: StepContext) -> tuple[torch.Tensor, torch.Tensor]:
    """(clean, degraded) ``crop``² crops of ``images`` in generator space, made by the fused
    op on the images' device with this step's seed."""
    size = (crop, crop)
    with ctx.data_timer():
        params = sample_degrade_params(images.shape[0], tuple(images.shape[-2:]), size, ranges,
                                       device=images.device, generator=ctx.torch_generator())
        clean, degraded = degrade_pair(images.contiguous(), params, size, ctx.seed)
    return ctx.prepare(to_model(clean)), ctx.prepare(to_model(degraded))


def image_l1(a: torch.Tensor, b: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Per-sample mean |a − b| in [0, 1] image units (generator space spans 2 units); with
    ``weight`` (0/1, same shape) the mean over the weighted pixels only."""
    err = (a.float() - b.float()).abs() / 2
    dims = tuple(range(1, err.ndim))
    if weight is None:
        return err.mean(dims)
    return (err * weight).sum(dims) / weight.sum(dims).clamp_min(1)


class DegradationPretext(Pretext):
    """Base of the built-in image-to-image pretexts (not registered itself)."""

    Config: type = PairConfig
    requires = ("image",)
    #: ``mix`` of synthetic-cem, -stem and -hrtem (equal weights): in the transfer study
    #: (benchmarks/results/transfer_study_cpu.md) it beat synthetic-cem alone on STEM
    #: restoration and cellular segmentation, was level on HRTEM segmentation, and never
    #: collapsed (synthetic-cem alone left HRTEM at Dice 0 with task.head_init=prior).
    default_data = "mix"
    #: Title of the first sample-grid column (the generator's input).
    input_title = "degraded"
    #: The bare ``emkit run pretext=pix2pix generator=hrnet`` budget: 3 × 60 steps of 8
    #: crops of 128²: 163-238 s of training (4.5-6.4 min with the install) on idle 2-core CPUs
    #: (the machines differ; docs/training.md, "Speed"),
    #: ending below the identity baseline's validation L1 for seed 0 (not for every seed:
    #: benchmarks/results/dwidth_transfer_cpu.md).
    train_defaults: dict[str, Any] = {"epochs": 3, "steps_per_epoch": 60, "batch_size": 8, "val_batches": 4}

    def adam(self, params) -> torch.optim.Adam:
        return torch.optim.Adam(params, lr=self.config.lr, betas=(self.config.beta1, self.config.beta2))

    def make_pairs(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> tuple[torch.Tensor, torch.Tensor]:
        """(clean, degraded) crops in generator space, produced by the fused op on device."""
        return make_pairs(batch["image"], self.config.crop, self.config.degrade, ctx)

    def corrupt(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        """``{"clean", "input", "weight"}``: the target, what the generator sees, and the
        pixels the loss and the validation L1 count (None = all)."""
        clean, degraded = self.make_pairs(batch, ctx)
        return {"clean": clean, "input": degraded, "weight": None}

    def validation_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        pair = self.corrupt(batch, ctx)
        with ctx.autocast():
            fake = self.generator(pair["input"])
        # L1 in [0, 1] image units, as in the paper's Fig. 4; the identity is the corrupted
        # input returned as it is (for masked: the fill value on the hidden pixels).
        return {"l1": image_l1(fake, pair["clean"], pair["weight"]),
                "l1_identity": image_l1(pair["input"], pair["clean"], pair["weight"])}

    def sample_panels(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        pair = self.corrupt(batch, ctx)
        with ctx.autocast():
            fake = self.generator(pair["input"]).float()
        restored, clean = from_model(fake).clamp(0, 1), from_model(pair["clean"]).clamp(0, 1)
        return {self.input_title: from_model(pair["input"].float()).clamp(0, 1), "restored": restored, "clean": clean,
                "|error| x4": ((restored - clean).abs() * 4).clamp(0, 1)}
