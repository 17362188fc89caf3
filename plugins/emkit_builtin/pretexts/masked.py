"""The ``masked`` pretext: masked-image modelling for convolutional generators.

Per step: the fused degradation op cuts the crops (``degraded_pairs.make_pairs``: random
crop, rotation, scale, flip); a random share ``ratio`` of the ``patch``×``patch`` cells of
each crop is hidden, and the generator reconstructs the clean crop from what is left.
The loss is L1 on the hidden pixels (plus ``visible_weight`` × L1 on the visible ones),
in the spirit of SimMIM (Xie et al. 2022) for a pixel-space CNN.

* ``fill``: what the hidden pixels hold. ``learnable``: one learned value per channel
  (a mask token in pixel space, trained with the generator and not exported) -- the
  network can tell the hidden pixels from the visible ones, so the mask is, in effect,
  given to it. ``noise``: Gaussian noise with each crop's visible mean and standard
  deviation -- the holes look like image, so the network must find them as well as fill
  them (the mask is not given). A one-channel pixel-space CNN has no other way to be
  told: a mask channel would change the generator's input width and so its transfer.
* ``degrade_input``: compose with the degradation op -- the visible pixels are blurred
  and noised as in ``restore`` (the target stays the clean crop).

Validation reports ``l1`` (restored vs clean) and ``l1_identity`` (the filled input vs
clean) on the hidden pixels, in [0, 1] units.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import torch
from torch import nn

from emkit.config.ranges import ranged
from emkit.plugin_api import StepContext
from emkit_builtin.pretexts.degraded_pairs import DegradationPretext, PairConfig, image_l1

#: Added to the step seed for the mask's random stream (the crop parameters use the seed itself).
MASK_STREAM = 0x6D61736B


@dataclasses.dataclass
class MaskedConfig(PairConfig):
    """Options of ``pretext=masked``: the shared ones and the masking."""

    #: Share of the patch cells hidden in every crop (exact per crop, rounded).
    ratio: float = ranged(0.5, 0, 1, exclusive_min=True, exclusive_max=True)
    #: Side of the square cells, in pixels (the crop is cut into a grid of them).
    patch: int = ranged(8, 1, 4096)
    #: ``learnable`` (a learned mask value: the mask is visible) or ``noise`` (it is not).
    fill: Literal["learnable", "noise"] = "learnable"
    #: Blur and noise the visible pixels with the degradation op as well.
    degrade_input: bool = False
    #: Weight of the L1 on the visible pixels (0 = the loss sees only the hidden ones).
    visible_weight: float = ranged(0.0, 0, 1000.0)


def patch_mask(batch: int, size: int, patch: int, ratio: float, generator: torch.Generator,
               device: torch.device) -> torch.Tensor:
    """``(batch, 1, size, size)`` of 0/1: ``round(ratio × cells)`` random cells per sample are 1."""
    cells = math.ceil(size / patch)
    count = min(cells * cells, max(1, round(ratio * cells * cells)))
    order = torch.rand(batch, cells * cells, generator=generator, device=device).argsort(1)
    mask = torch.zeros(batch, cells * cells, device=device).scatter_(1, order[:, :count], 1.0)
    mask = mask.view(batch, 1, cells, cells).repeat_interleave(patch, 2).repeat_interleave(patch, 3)
    return mask[..., :size, :size].contiguous()


class FillToken(nn.Module):
    """The learned value of hidden pixels, one per channel (returned by ``forward``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.value = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self) -> torch.Tensor:
        return self.value


class Masked(DegradationPretext):
    Config = MaskedConfig
    input_title = "masked input"

    def __init__(self, config: MaskedConfig, generator) -> None:
        super().__init__(config, generator)
        self.fill = FillToken(generator.in_channels)

    def modules(self) -> dict[str, nn.Module]:
        mods: dict[str, nn.Module] = {"generator": self.generator}
        if self.config.fill == "learnable":
            mods["fill"] = self.fill
        return mods

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        params = list(self.generator.parameters())
        if self.config.fill == "learnable":
            params += list(self.fill.parameters())
        self.optimizer = self.adam(params)
        return {"generator": self.optimizer}

    def corrupt(self, batch: dict[str, torch.Tensor], ctx: StepContext, *,
                fill: nn.Module | None = None) -> dict[str, torch.Tensor]:
        clean, degraded = self.make_pairs(batch, ctx)
        base = degraded if self.config.degrade_input else clean
        gen = torch.Generator(device=base.device)
        gen.manual_seed((ctx.seed + MASK_STREAM) % 2**63)
        mask = patch_mask(base.shape[0], base.shape[-1], self.config.patch, self.config.ratio, gen, base.device)
        mask = ctx.prepare(mask.to(base.dtype))
        if self.config.fill == "learnable":
            value = (fill or self.fill)().to(base.dtype)
        else:
            value = self._noise(base, mask, gen)
        return {"clean": clean, "input": base * (1 - mask) + value * mask, "weight": mask}

    @staticmethod
    def _noise(base: torch.Tensor, mask: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Gaussian noise with each sample's visible mean and standard deviation."""
        visible = 1 - mask
        dims = (1, 2, 3)
        n = visible.sum(dims, keepdim=True).clamp_min(1)
        mean = (base * visible).sum(dims, keepdim=True) / n
        std = (((base - mean) * visible) ** 2).sum(dims, keepdim=True).div(n).sqrt()
        noise = torch.randn(base.shape, generator=gen, device=base.device, dtype=base.dtype)
        return mean + std * noise

    def training_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, float]:
        fill = self.net("fill") if self.config.fill == "learnable" else None
        pair = self.corrupt(batch, ctx, fill=fill)
        self.optimizer.zero_grad(set_to_none=True)
        with ctx.autocast():
            fake = self.net("generator")(pair["input"])
        hidden = image_l1(fake, pair["clean"], pair["weight"]).mean() * 2  # generator-space units
        losses = {"loss_hidden_l1": hidden}
        if self.config.visible_weight > 0:
            losses["loss_visible_l1"] = image_l1(fake, pair["clean"], 1 - pair["weight"]).mean() * 2
        loss = hidden + self.config.visible_weight * losses.get("loss_visible_l1", 0.0)
        loss.backward()
        ctx.clip(self.generator.parameters())
        self.optimizer.step()
        return {name: value.item() for name, value in losses.items()}
