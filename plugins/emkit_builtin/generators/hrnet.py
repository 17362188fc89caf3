"""``hrnet``: HRNetV2 as an image-to-image generator (default: W18-small-v2).

Backbone (Wang et al., HRNetV2; widths/modules/blocks configurable):

  * stem: two 3×3 stride-2 convs (``stem_width`` = 64 channels) → ¼ resolution;
  * stage 1: ``stage1_blocks`` bottlenecks (``stage1_width`` = 64 → 256 channels);
  * stages 2..n: 2..n parallel branches at ¼, ⅛, 1/16, 1/32 with ``widths``
    (18/36/72/144), each stage ``modules[k]`` high-resolution modules of ``blocks[k]``
    basic blocks per branch followed by multi-resolution fusion (W18-small-v2: 1/3/2
    modules of 2 blocks);
  * HRNetV2 representation: every branch upsampled (bilinear) to ¼ and concatenated
    (18+36+72+144 = 270 channels).

Generator decoder (ours; HRNet's segmentation head predicts at ¼ resolution and
upsamples bilinearly, too coarse for pixel-level restoration): a 3×3 conv reduces the
270 channels to ``decoder_widths[0]`` (64); two learned ×2 upsamplings (3×3 conv + pixel shuffle) bring the
features to ½ and full resolution, each merged (concatenation + 3×3 conv) with a
skip: the stem's ½-resolution features, then a 3×3 conv of the input itself (the
stride-2 stem cannot pass single-pixel detail); widths 32 and 16. A 1×1 head with no
activation ends it. ``encoder_modules()`` is the backbone; the decoder and head train
when ``freeze=encoder``.

``receptive_field`` is measured (``rf_probe``) on a one-channel copy of the same
topology and cached; as for the U-Net it is the mean footprint extent over output
positions (rounded). The default network sees 1 113 px (1 103–1 135 by position).
"""

from __future__ import annotations

import dataclasses
import functools

import torch
import torch.nn.functional as F
from torch import nn

from emkit.config.ranges import ranged
from emkit_builtin.generators.base import PaddedGenerator
from emkit_builtin.generators.blocks import Bottleneck, conv_bn_relu
from emkit_builtin.generators.hrnet_modules import Stage, Transition
from emkit_builtin.generators.init import pix2pix_init
from emkit_builtin.generators.rf_probe import MeasuredReceptiveField, measure_receptive_field


@dataclasses.dataclass
class HRNetConfig:
    """Options of the ``hrnet`` generator (``generator.<field>=...``)."""

    in_channels: int = ranged(1, 1, 64)
    out_channels: int = ranged(1, 1, 64)
    stem_width: int = ranged(64, 1, 512)
    #: Bottleneck planes of stage 1 (its output has 4× as many channels).
    stage1_width: int = ranged(64, 1, 512)
    stage1_blocks: int = ranged(2, 1, 16)
    #: Branch widths; their number is the number of branches of the last stage.
    widths: list[int] = ranged(lo=1, hi=1024, default_factory=lambda: [18, 36, 72, 144])
    #: High-resolution modules in stages 2..n (one entry per stage).
    modules: list[int] = ranged(lo=1, hi=16, default_factory=lambda: [1, 3, 2])
    #: Basic blocks per branch in each module of stages 2..n.
    blocks: list[int] = ranged(lo=1, hi=16, default_factory=lambda: [2, 2, 2])
    #: Decoder widths at ¼, ½ and full resolution.
    decoder_widths: list[int] = ranged(lo=1, hi=512, default_factory=lambda: [64, 32, 16])

    def __post_init__(self) -> None:
        stages = len(self.widths) - 1
        if stages < 1:
            raise ValueError(f"widths needs at least 2 branches, got {self.widths}")
        if len(self.modules) != stages or len(self.blocks) != stages:
            raise ValueError(
                f"modules and blocks need {stages} entries (stages 2..{stages + 1}) for "
                f"{len(self.widths)} widths, got modules={self.modules} blocks={self.blocks}"
            )
        if len(self.decoder_widths) != 3:
            raise ValueError(f"decoder_widths needs 3 entries (¼, ½, full), got {self.decoder_widths}")
        for key in ("in_channels", "out_channels", "stem_width", "stage1_width", "stage1_blocks"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)}")
        for key in ("widths", "modules", "blocks", "decoder_widths"):
            if any(v < 1 for v in getattr(self, key)):
                raise ValueError(f"{key} entries must be >= 1, got {getattr(self, key)}")


class HRNet(PaddedGenerator):
    """HRNetV2 backbone + learned upsampling decoder (see the module docstring)."""

    Config = HRNetConfig

    def __init__(self, config: HRNetConfig) -> None:
        super().__init__(config)
        cfg = self.config
        # --- backbone (the "encoder" for freeze=encoder) ---
        self.stem1 = conv_bn_relu(cfg.in_channels, cfg.stem_width, stride=2)
        self.stem2 = conv_bn_relu(cfg.stem_width, cfg.stem_width, stride=2)
        stage1_out = cfg.stage1_width * Bottleneck.expansion
        self.layer1 = nn.Sequential(
            *(Bottleneck(cfg.stem_width if i == 0 else stage1_out, cfg.stage1_width) for i in range(cfg.stage1_blocks))
        )
        self.transitions = nn.ModuleList()
        self.stages = nn.ModuleList()
        branches = [stage1_out]
        for k, (modules, blocks) in enumerate(zip(cfg.modules, cfg.blocks)):
            widths = list(cfg.widths[: k + 2])
            self.transitions.append(Transition(branches, widths))
            self.stages.append(Stage(widths, modules, blocks))
            branches = widths
        # --- decoder ---
        d4, d2, d1 = cfg.decoder_widths
        self.neck = conv_bn_relu(sum(cfg.widths), d4)
        self.up_half = _PixelShuffleUp(d4, d2)
        self.merge_half = conv_bn_relu(d2 + cfg.stem_width, d2)
        self.up_full = _PixelShuffleUp(d2, d1)
        self.input_skip = conv_bn_relu(cfg.in_channels, d1)
        self.merge_full = conv_bn_relu(2 * d1, d1)
        self._set_head(d1)
        self._set_size_multiple(4 * 2 ** (len(cfg.widths) - 1))
        pix2pix_init(self)

    @property
    def scale_width(self) -> int:
        """The highest-resolution branch's width: the ``W`` of HRNet-W18/W32/W48."""
        return int(self.config.widths[0])

    def encoder_modules(self) -> list[nn.Module]:
        """The HRNet backbone: stem, stage 1, transitions and stages 2..n."""
        return [self.stem1, self.stem2, self.layer1, *self.transitions, *self.stages]

    def backbone_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(½-resolution stem features, ¼-resolution HRNetV2 concatenation) of a padded input."""
        half = self.stem1(x)
        xs = [self.layer1(self.stem2(half))]
        for transition, stage in zip(self.transitions, self.stages):
            xs = stage(transition(xs))
        size = xs[0].shape[-2:]
        ups = [F.interpolate(t, size=size, mode="bilinear", align_corners=False) for t in xs[1:]]
        return half, torch.cat([xs[0], *ups], dim=1)

    def _forward_padded(self, x: torch.Tensor) -> torch.Tensor:
        half, quarter = self.backbone_features(x)
        y = self.up_half(self.neck(quarter))
        y = self.up_full(self.merge_half(torch.cat([y, half], dim=1)))
        y = self.merge_full(torch.cat([y, self.input_skip(x)], dim=1))
        return self.out_conv(y)

    @property
    def receptive_field(self) -> int:
        """Mean footprint extent over output positions, in input pixels (measured, cached)."""
        return round(self.measured_receptive_field().mean)

    def measured_receptive_field(self) -> MeasuredReceptiveField:
        """Per-position footprint extents (cached per topology; see ``rf_probe``)."""
        cfg = self.config
        first_conv = cfg.stage1_width * Bottleneck.expansion != cfg.widths[0]
        return _topology_rf(
            len(cfg.widths), tuple(cfg.modules), tuple(cfg.blocks), cfg.stage1_blocks, first_conv
        )


class _PixelShuffleUp(nn.Sequential):
    """Learned ×2 upsampling: 3×3 conv to 4·cout channels, pixel shuffle, BN, ReLU."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(
            nn.Conv2d(cin, 4 * cout, 3, padding=1, bias=False),
            nn.PixelShuffle(2),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )


@functools.lru_cache(maxsize=16)
def _topology_rf(
    branches: int, modules: tuple[int, ...], blocks: tuple[int, ...], stage1_blocks: int, first_conv: bool
) -> MeasuredReceptiveField:
    """Probe a one-channel network with the same layer graph (widths do not change it)."""
    thin = HRNetConfig(
        stem_width=1,
        stage1_width=1,
        stage1_blocks=stage1_blocks,
        # Width 4 == 4·stage1_width keeps the first transition an identity when the
        # real network's is one; otherwise width 1 makes it a 3×3 conv as in the real one.
        widths=[1 if first_conv else 4] * branches,
        modules=list(modules),
        blocks=list(blocks),
        decoder_widths=[1, 1, 1],
    )
    net = HRNet(thin)
    # 48 periods (1536 px at the default depth) holds the default footprint in one try.
    return measure_receptive_field(net, period=net.size_multiple, in_channels=1, height=48 * net.size_multiple)
