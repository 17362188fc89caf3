"""The PatchGAN width follows the generator's scale by default; ``preset=paper`` keeps 64."""

from __future__ import annotations

from torch import nn

from emkit.config import resolve
from emkit.engine.loop.objective_setup import build_objective
from emkit_builtin.pretexts.patchgan import AUTO_WIDTH_RANGE, PatchDiscriminator, width_for


def _d_width(objective) -> int:
    return objective.discriminator.model[0].out_channels


def _build(*overrides):
    return build_objective(resolve(["pretext=pix2pix", "data=synthetic-cem", "train.device=cpu", *overrides]))


def test_width_for_reads_the_first_conv_and_clamps():
    assert width_for(nn.Sequential(nn.Conv2d(1, 24, 3), nn.Conv2d(24, 512, 3))) == 24
    assert width_for(nn.Sequential(nn.Conv2d(1, 2, 3))) == AUTO_WIDTH_RANGE[0]
    assert width_for(nn.Sequential(nn.Conv2d(1, 256, 3))) == AUTO_WIDTH_RANGE[1]
    assert width_for(nn.Sequential(nn.Linear(2, 2))) == AUTO_WIDTH_RANGE[1]


def test_width_for_prefers_a_declared_scale_width():
    class Declared(nn.Sequential):
        scale_width = 18

    assert width_for(Declared(nn.Conv2d(1, 64, 3))) == 18


def test_pix2pix_default_follows_the_generator():
    small = _build("generator=unet", "generator.width=8", "generator.blocks=2")
    assert _d_width(small) == 8
    assert _d_width(_build("generator=unet", "generator.width=16", "generator.blocks=2")) == 16
    # HRNet follows its branch width (the W of W18/W32/W48), not the 64-wide stem all sizes share
    assert _d_width(_build("generator=hrnet")) == 18
    assert _d_width(_build("generator=hrnet", "generator.widths=[32,64,128,256]")) == 32
    # cheaper: the discriminator of a width-8 U-Net has ~1/64 of the reference one's weights
    ref = PatchDiscriminator(2, 64)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(small.discriminator) * 32 < count(ref)


def test_explicit_and_paper_widths():
    assert _d_width(_build("generator=unet", "generator.width=8", "generator.blocks=2", "pretext.d_width=32")) == 32
    paper = resolve(["pretext=pix2pix", "data=synthetic-cem", "preset=paper"])
    assert paper.plugin_config("pretext").d_width == 64
