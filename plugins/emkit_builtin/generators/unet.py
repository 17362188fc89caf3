"""``unet``: Sytwu et al.'s residual U-Net (``U-Net_B_RF``) as an emkit generator.

Architecture (B = ``blocks``; level i has ``width·2^i`` filters)::

    encoder     x → Res(d_0) → pool p_1 → Res(d_1) → … → pool p_B → Res(d_B)  (bottleneck)
                      skip_0               skip_1
    decoder     for level i = B-1 … 0:  y → Res(d_i)(cat(upsample_{p_{i+1}}(y), skip_i))
    head        1×1 conv

``Res`` is conv3–BN–ReLU–conv3–BN + 1×1-conv skip, ReLU; pooling is max-pooling,
upsampling is nearest-neighbour, the head is a 1×1 convolution with no activation.

Choosing a network:
  * ``generator.blocks=4 generator.rf=424``: one of the paper's nine presets
    (44/84/116 for 2 blocks, 96/176/240 for 3, 200/360/424 for 4; see ``unet_rf``);
  * ``generator.variant=U-Net_4_424``: the same by the paper's name (it is resolved
    into ``blocks`` and ``rf`` and then cleared, so saved configs hold one spelling);
  * ``generator.pools=[2,4,2] generator.dilations=[2,1,1,1]``: any other layout.

Defaults: ``blocks=4`` with all pools 2 (U-Net_4_200, the deepest of the paper's
families: its ~200 px context spans most of a 224 px CEM500K patch) and ``width=16``.
Sytwu et al. started at 4 filters because their labelled Au-nanoparticle sets are
small; self-supervised pretraining has far more data to fit, and 16 filters still
keep the default at 2.1 M parameters and 7.4 GFLOPs per 256² image, trainable on a
CPU. ``generator.width=4`` gives the paper's sizes (16× fewer parameters).
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import torch
from torch import nn

from emkit.config.ranges import ranged
from emkit_builtin.generators.base import PaddedGenerator
from emkit_builtin.generators.blocks import ResidualBlock
from emkit_builtin.generators.init import pix2pix_init
from emkit_builtin.generators.unet_rf import (
    parse_variant,
    receptive_field,
    resolve_layout,
    size_multiple,
    variant_name,
)

_DEFAULT_BLOCKS = 4


@dataclasses.dataclass
class UNetConfig:
    """Options of the ``unet`` generator (``generator.<field>=...``)."""

    in_channels: int = ranged(1, 1, 64)
    out_channels: int = ranged(1, 1, 64)
    #: Encoder blocks B (each followed by a pool); presets exist for 2, 3 and 4.
    blocks: int = ranged(_DEFAULT_BLOCKS, 1, 6)
    #: Receptive field of a paper preset for this B; None = all pools 2, no dilation.
    rf: Optional[int] = ranged(None, 1, 100000)
    #: Explicit pooling factors (B entries); overrides ``rf`` presets.
    pools: Optional[list[int]] = ranged(None, 1, 16)
    #: Explicit dilations (B + 1 entries: levels 0..B-1, then the bottleneck).
    dilations: Optional[list[int]] = ranged(None, 1, 64)
    #: Filters of the first level; doubled at every level below.
    width: int = ranged(16, 1, 256)
    #: The paper's name, e.g. "U-Net_4_424"; sets ``blocks`` and ``rf``.
    variant: Optional[str] = None

    def __post_init__(self) -> None:
        if self.variant is not None:
            blocks, rf = parse_variant(self.variant)
            if self.rf is not None and self.rf != rf:
                raise ValueError(f"variant={self.variant!r} contradicts rf={self.rf}")
            if self.blocks not in (blocks, _DEFAULT_BLOCKS):
                raise ValueError(f"variant={self.variant!r} contradicts blocks={self.blocks}")
            self.blocks, self.rf, self.variant = blocks, rf, None
        for name in ("in_channels", "out_channels", "width"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        resolve_layout(self.blocks, self.rf, self.pools, self.dilations)


class UNet(PaddedGenerator):
    """Residual U-Net of Sytwu et al. (see the module docstring)."""

    Config = UNetConfig

    def __init__(self, config: UNetConfig) -> None:
        super().__init__(config)
        cfg = self.config
        pools, dilations = resolve_layout(cfg.blocks, cfg.rf, cfg.pools, cfg.dilations)
        self.pools: tuple[int, ...] = pools
        self.dilations: tuple[int, ...] = dilations
        b = cfg.blocks
        widths = [cfg.width * 2**i for i in range(b + 1)]
        ins = [cfg.in_channels, *widths[: b - 1]]
        self.encoder = nn.ModuleList(ResidualBlock(ins[i], widths[i], dilations[i]) for i in range(b))
        self.down = nn.ModuleList(nn.MaxPool2d(p) for p in pools)
        self.bottleneck = ResidualBlock(widths[b - 1], widths[b], dilations[b])
        self.up = nn.ModuleList(nn.Upsample(scale_factor=p, mode="nearest") for p in pools)
        # decoder[i] works at level i: upsampled level i+1 concatenated with skip i.
        self.decoder = nn.ModuleList(
            ResidualBlock(widths[i + 1] + widths[i], widths[i], dilations[i]) for i in range(b)
        )
        self._set_head(widths[0])
        self._set_size_multiple(size_multiple(pools))
        pix2pix_init(self)

    @property
    def receptive_field(self) -> int:
        """The paper's formula: mean extent over output positions (see ``unet_rf``)."""
        return receptive_field(self.pools, self.dilations)

    @property
    def variant(self) -> str:
        """The paper's name of this network, e.g. ``U-Net_4_424``."""
        return variant_name(self.config.blocks, self.receptive_field)

    def encoder_modules(self) -> list[nn.Module]:
        """Encoder blocks and the bottleneck (pools have no weights)."""
        return [*self.encoder, self.bottleneck]

    def _forward_padded(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for block, pool in zip(self.encoder, self.down):
            x = block(x)
            skips.append(x)
            x = pool(x)
        x = self.bottleneck(x)
        for i in reversed(range(len(self.decoder))):
            x = self.decoder[i](torch.cat([self.up[i](x), skips[i]], dim=1))
        return self.out_conv(x)
