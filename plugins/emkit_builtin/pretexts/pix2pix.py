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
from typing import Literal, Optional

import torch
from torch import nn

from emkit.config.ranges import ranged
from emkit.plugin_api import StepContext
from emkit_builtin.pretexts.degraded_pairs import DegradationPretext, PairConfig
from emkit_builtin.pretexts.gan_loss import gan_loss
from emkit_builtin.pretexts.patchgan import PatchDiscriminator, width_for


@dataclasses.dataclass
class Pix2PixConfig(PairConfig):
    """Options of ``pretext=pix2pix``: the shared ones (crop, Adam, degradation ranges) and the GAN's."""

    lambda_l1: float = ranged(100.0, 0, None)
    gan_loss: Literal["lsgan", "vanilla"] = "lsgan"
    #: Discriminator depth (3 → 70×70 patches), width and normalisation; width None =
    #: follows the generator's scale in [8, 64] (U-Net width, HRNet branch width; see
    #: patchgan.width_for).
    d_layers: int = ranged(3, 1, 8)
    d_width: Optional[int] = ranged(None, 1, 1024)
    d_norm: Literal["batch", "instance", "none"] = "batch"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.d_layers < 1:
            raise ValueError(f"d_layers must be >= 1, got {self.d_layers}")


class Pix2Pix(DegradationPretext):
    Config = Pix2PixConfig
    #: ``preset=paper`` is the paper's full setting (the bare run's budget: DegradationPretext).
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
        self.optimizers = {"generator": self.adam(self.generator.parameters()),
                           "discriminator": self.adam(self.discriminator.parameters())}
        return self.optimizers

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
