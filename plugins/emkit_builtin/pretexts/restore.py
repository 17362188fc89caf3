"""The ``restore`` pretext: pix2pix without the discriminator (the GAN ablation).

The same pairs as ``pix2pix`` (the fused degradation op: random crop, rotation, scale,
flip, blur and noise; ``degraded_pairs.make_pairs``), the same generator, Adam settings
and validation metrics; the loss is a plain pixel loss between the restored and the
clean crop: L1 (``loss=l1``, pix2pix's reconstruction term without the adversarial one)
or L1 + L2 (``loss=l1+l2``). One forward/backward of the generator per step and no
critic, so a step costs about half of a pix2pix step (measured side by side in
``benchmarks/studies/pretext_study.py``).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from emkit.plugin_api import StepContext
from emkit_builtin.pretexts.degraded_pairs import DegradationPretext, PairConfig


@dataclasses.dataclass
class RestoreConfig(PairConfig):
    """Options of ``pretext=restore``: the shared ones (crop, Adam, degradation ranges) and the loss."""

    #: ``l1`` or ``l1+l2`` (sum of mean absolute and mean squared error, in generator space).
    loss: Literal["l1", "l1+l2"] = "l1"


class Restore(DegradationPretext):
    Config = RestoreConfig

    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator}

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        self.optimizer = self.adam(self.generator.parameters())
        return {"generator": self.optimizer}

    def training_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, float]:
        clean, degraded = self.make_pairs(batch, ctx)
        self.optimizer.zero_grad(set_to_none=True)
        with ctx.autocast():
            fake = self.net("generator")(degraded)
        fake, clean = fake.float(), clean.float()
        loss_l1 = F.l1_loss(fake, clean)
        losses = {"loss_l1": loss_l1}
        if self.config.loss == "l1+l2":
            losses["loss_l2"] = F.mse_loss(fake, clean)
        loss = sum(losses.values())
        loss.backward()
        ctx.clip(self.generator.parameters())
        self.optimizer.step()
        return {name: value.item() for name, value in losses.items()}
