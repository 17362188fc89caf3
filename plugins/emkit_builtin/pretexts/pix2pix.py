"""The ``pix2pix`` pretext: restore degraded EM images with a conditional GAN.

Per step (Isola et al. 2017; Kazimi et al. 2024): the fused degradation op turns a batch of
clean images into (clean crop, degraded crop) pairs on the training device — random crop,
rotation, scale, flip, Gaussian blur and noise (Poisson shot noise optional). The generator
restores the degraded crop; a PatchGAN discriminator scores ``cat(degraded, image)``.
D step on the detached fake (loss × 0.5), then G step with GAN + λ·L1 (λ = 100). LSGAN by
default; Adam 2e-4, betas (0.5, 0.999).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, Optional

import torch
from torch import nn

from emkit.config.ranges import ranged
from emkit.interfaces import Pretext
from emkit.ops import DegradeRanges, degrade_pair, sample_degrade_params
from emkit.plugin_api import StepContext, from_model, to_model
from emkit_builtin.pretexts.gan_loss import gan_loss
from emkit_builtin.pretexts.patchgan import PatchDiscriminator, width_for


@dataclasses.dataclass
class Pix2PixConfig:
    #: Side of the square training crops (the paper uses 256).
    crop: int = ranged(128, 16, 8192)
    lambda_l1: float = ranged(100.0, 0, None)
    gan_loss: Literal["lsgan", "vanilla"] = "lsgan"
    lr: float = ranged(2e-4, 0, 10, exclusive_min=True)
    beta1: float = ranged(0.5, 0, 1, exclusive_max=True)
    beta2: float = ranged(0.999, 0, 1, exclusive_max=True)
    #: Discriminator depth (3 → 70×70 patches), width and normalisation; width None =
    #: follows the generator's scale in [8, 64] (U-Net width, HRNet branch width; see
    #: patchgan.width_for).
    d_layers: int = ranged(3, 1, 8)
    d_width: Optional[int] = ranged(None, 1, 1024)
    d_norm: Literal["batch", "instance", "none"] = "batch"
    #: Degradation ranges (see emkit.ops.DegradeRanges for each field and its default).
    degrade: DegradeRanges = dataclasses.field(default_factory=DegradeRanges)

    def __post_init__(self) -> None:
        if self.crop < 16:
            raise ValueError(f"crop must be at least 16 pixels, got {self.crop}")
        if self.d_layers < 1:
            raise ValueError(f"d_layers must be >= 1, got {self.d_layers}")


class Pix2Pix(Pretext):
    Config = Pix2PixConfig
    requires = ("image",)
    #: ``mix`` of synthetic-cem, -stem and -hrtem (equal weights): in the transfer study
    #: (benchmarks/results/transfer_study_cpu.md) it beat synthetic-cem alone on STEM
    #: restoration and cellular segmentation, was level on HRTEM segmentation, and never
    #: collapsed (synthetic-cem alone left HRTEM at Dice 0 with task.head_init=prior).
    default_data = "mix"
    #: The bare ``emkit run pretext=pix2pix generator=hrnet`` budget: 3 × 60 steps of 8
    #: crops of 128²: 163 s of training (4.5 min with the install) on an idle 2-core CPU,
    #: ending below the identity baseline's validation L1 for seed 0 (not for every seed:
    #: benchmarks/results/dwidth_transfer_cpu.md). ``preset=paper`` is the full setting.
    train_defaults: dict[str, Any] = {"epochs": 3, "steps_per_epoch": 60, "batch_size": 8, "val_batches": 4}
    presets = {
        "paper": {
            "pretext": {"crop": 256, "d_width": 64},
            "train": {"batch_size": 128, "epochs": 60, "schedule": "linear", "steps_per_epoch": None,
                      "val_batches": None},
        },
    }

    def __init__(self, config: Pix2PixConfig, generator) -> None:
        super().__init__(config, generator)
        channels = generator.in_channels + generator.out_channels
        width = config.d_width if config.d_width is not None else width_for(generator)
        self.discriminator = PatchDiscriminator(channels, width, config.d_layers, config.d_norm)

    # ---- engine contract -------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.config.beta1, self.config.beta2)
        self.optimizers = {
            "generator": torch.optim.Adam(self.generator.parameters(), lr=self.config.lr, betas=betas),
            "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=self.config.lr, betas=betas),
        }
        return self.optimizers

    def make_pairs(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> tuple[torch.Tensor, torch.Tensor]:
        """(clean, degraded) crops in generator space, produced by the fused op on device."""
        images = batch["image"]
        size = (self.config.crop, self.config.crop)
        with ctx.data_timer():
            params = sample_degrade_params(images.shape[0], tuple(images.shape[-2:]), size, self.config.degrade,
                                           device=images.device, generator=ctx.torch_generator())
            clean, degraded = degrade_pair(images.contiguous(), params, size, ctx.seed)
        return ctx.prepare(to_model(clean)), ctx.prepare(to_model(degraded))

    def training_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, float]:
        opt = self.optimizers
        clean, degraded = self.make_pairs(batch, ctx)
        gen, disc = self.net("generator"), self.net("discriminator")
        with ctx.autocast():
            fake = gen(degraded)

        # Discriminator: real pairs → 1, fake pairs (detached) → 0, one forward for both.
        opt["discriminator"].zero_grad(set_to_none=True)
        with ctx.autocast():
            pairs = torch.cat([torch.cat([degraded, fake.detach()], 1), torch.cat([degraded, clean], 1)], 0)
            pred_fake, pred_real = disc(pairs).float().chunk(2)
        loss_d = 0.5 * (gan_loss(self.config.gan_loss, pred_fake, False) +
                        gan_loss(self.config.gan_loss, pred_real, True))
        loss_d.backward()
        ctx.clip(self.discriminator.parameters())
        opt["discriminator"].step()

        # Generator: fool D (through the raw module: no DDP sync of D's gradients) + λ·L1.
        opt["generator"].zero_grad(set_to_none=True)
        self.discriminator.requires_grad_(False)
        try:
            with ctx.autocast():
                pred = self.discriminator(torch.cat([degraded, fake], 1)).float()
            loss_gan = gan_loss(self.config.gan_loss, pred, True)
            loss_l1 = torch.nn.functional.l1_loss(fake.float(), clean.float())
            loss_g = loss_gan + self.config.lambda_l1 * loss_l1
            loss_g.backward()
        finally:
            self.discriminator.requires_grad_(True)
        ctx.clip(self.generator.parameters())
        opt["generator"].step()
        return {"loss_d": loss_d.item(), "loss_g_gan": loss_gan.item(), "loss_g_l1": loss_l1.item()}

    def validation_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        clean, degraded = self.make_pairs(batch, ctx)
        with ctx.autocast():
            fake = self.generator(degraded)
        dims = tuple(range(1, clean.ndim))
        # L1 in [0, 1] image units (model space spans 2 units), as in the paper's Fig. 4.
        return {
            "l1": (fake.float() - clean).abs().mean(dims) / 2,
            "l1_identity": (degraded - clean).abs().mean(dims) / 2,
        }

    def sample_panels(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        clean, degraded = self.make_pairs(batch, ctx)
        with ctx.autocast():
            fake = self.generator(degraded).float()
        restored, clean = from_model(fake).clamp(0, 1), from_model(clean).clamp(0, 1)
        return {"degraded": from_model(degraded).clamp(0, 1), "restored": restored, "clean": clean,
                "|error| x4": ((restored - clean).abs() * 4).clamp(0, 1)}
