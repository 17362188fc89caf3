"""PatchGAN discriminator of pix2pix (Isola et al. 2017), conditional on the input image.

Layers (kernel 4, LeakyReLU 0.2): C64 stride 2 without norm, then ``layers - 1`` more
stride-2 blocks doubling the width (capped at 8×), one stride-1 block and a stride-1
1-channel output. With ``layers=3`` (the default) each output scores a 70×70 patch.

Width: the reference uses 64 (``preset=paper``). By default the width follows the
generator's scale (:func:`width_for`): a small generator gets a small critic, so a width-8
U-Net no longer spends most of each step on a width-64 discriminator.
"""

from __future__ import annotations

from torch import nn


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    return nn.Identity()


#: Bounds of the automatic width: below 8 the critic is too weak, 64 is the reference.
AUTO_WIDTH_RANGE = (8, 64)


def width_for(generator: nn.Module) -> int:
    """The discriminator width matching ``generator``'s scale, clamped to [8, 64].

    The scale is the generator's ``scale_width`` when it declares one (HRNet: its branch
    width, 18 for W18 -- every HRNet size shares a 64-wide stem, so the stem says nothing
    about its size), else its first conv's output channels (U-Net ``width``). The
    discriminator's cost grows with the square of its width, like the generator's, so
    matching the widths keeps their costs in proportion.
    """
    lo, hi = AUTO_WIDTH_RANGE
    declared = getattr(generator, "scale_width", None)
    if declared is None:
        first = next((m for m in generator.modules() if isinstance(m, nn.Conv2d)), None)
        declared = None if first is None else first.out_channels
    return hi if declared is None else max(lo, min(hi, int(declared)))


def patchgan_receptive_field(layers: int) -> int:
    """Receptive field of the discriminator: stride-2 k4 layers, then two stride-1 k4 layers."""
    rf = 1
    strides = [2] * layers + [1, 1]
    for s in reversed(strides):
        rf = (rf - 1) * s + 4
    return rf


class PatchDiscriminator(nn.Module):
    def __init__(self, in_channels: int, width: int = 64, layers: int = 3, norm: str = "batch") -> None:
        super().__init__()
        use_bias = norm != "batch"
        seq: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, layers):
            prev, mult = mult, min(2**n, 8)
            seq += [nn.Conv2d(width * prev, width * mult, 4, 2, 1, bias=use_bias),
                    _norm(norm, width * mult), nn.LeakyReLU(0.2, True)]
        prev, mult = mult, min(2**layers, 8)
        seq += [nn.Conv2d(width * prev, width * mult, 4, 1, 1, bias=use_bias),
                _norm(norm, width * mult), nn.LeakyReLU(0.2, True),
                nn.Conv2d(width * mult, 1, 4, 1, 1)]
        self.model = nn.Sequential(*seq)
        self.receptive_field = patchgan_receptive_field(layers)
        self.apply(_init_pix2pix)

    def forward(self, x):
        return self.model(x)


def _init_pix2pix(m: nn.Module) -> None:
    """pix2pix init: conv weights N(0, 0.02), norm weights N(1, 0.02), biases 0."""
    if isinstance(m, nn.Conv2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.weight is not None:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)
