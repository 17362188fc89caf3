"""GAN objectives on discriminator logits: LSGAN (MSE to 1/0, the paper's) or vanilla (BCE)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gan_loss(kind: str, prediction: torch.Tensor, real: bool) -> torch.Tensor:
    target = torch.ones_like(prediction) if real else torch.zeros_like(prediction)
    if kind == "lsgan":
        return F.mse_loss(prediction, target)
    if kind == "vanilla":
        return F.binary_cross_entropy_with_logits(prediction, target)
    raise ValueError(f"unknown GAN loss {kind!r}")
