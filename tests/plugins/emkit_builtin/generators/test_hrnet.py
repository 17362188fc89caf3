"""``hrnet``: HRNetV2-W18-small-v2 structure, learned decoder, config checks, receptive field."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from emkit.config import resolve
from emkit.errors import ConfigError
from emkit.models import build_generator
from emkit_builtin.generators.blocks import BasicBlock, Bottleneck
from emkit_builtin.generators.hrnet import HRNet, HRNetConfig
from emkit_builtin.generators.rf_probe import measure_receptive_field

SMALL = {"stem_width": 8, "stage1_width": 4, "widths": [4, 8, 8], "modules": [1, 1], "blocks": [1, 1],
         "decoder_widths": [8, 4, 4]}


def test_default_is_w18_small_v2():
    net = build_generator("hrnet")
    assert net.stem1[0].stride == (2, 2) and net.stem2[0].stride == (2, 2)
    assert net.stem1[0].out_channels == net.stem2[0].out_channels == 64
    assert [type(b) for b in net.layer1] == [Bottleneck, Bottleneck] and net.layer1[-1].conv3.out_channels == 256
    assert [len(stage.body) for stage in net.stages] == [1, 3, 2]
    last = net.stages[-1].body[-1]
    assert [len(branch) for branch in last.branches] == [2, 2, 2, 2]
    assert all(isinstance(b, BasicBlock) for branch in last.branches for b in branch)
    assert [branch[0].conv1.in_channels for branch in last.branches] == [18, 36, 72, 144]
    assert net.size_multiple == 32


def test_v2_representation_is_270_channels_at_a_quarter():
    net = build_generator("hrnet").eval()
    with torch.no_grad():
        half, quarter = net.backbone_features(torch.rand(1, 1, 64, 96))
    assert half.shape == (1, 64, 32, 48)
    assert quarter.shape == (1, 270, 16, 24)


def test_fusion_reaches_every_branch():
    net = build_generator("hrnet")
    module = net.stages[-1].body[0]
    assert len(module.fuse) == 4 and all(len(row) == 4 for row in module.fuse)
    down = module.fuse[3][0]  # 1/4 -> 1/32: three stride-2 convs
    assert sum(isinstance(m, nn.Conv2d) and m.stride == (2, 2) for m in down) == 3


def test_decoder_upsamples_with_learned_layers_and_skips():
    net = build_generator("hrnet", SMALL)
    for up in (net.up_half, net.up_full):
        assert any(isinstance(m, nn.PixelShuffle) for m in up) and isinstance(up[0], nn.Conv2d)
    assert net.merge_half[0].in_channels == 4 + 8  # upsampled + stem skip
    assert net.merge_full[0].in_channels == 4 + 4  # upsampled + input skip
    assert net.head.kernel_size == (1, 1)
    encoder = {id(p) for m in net.encoder_modules() for p in m.parameters()}
    decoder = [net.neck, net.up_half, net.merge_half, net.up_full, net.input_skip, net.merge_full, net.head]
    assert not any(id(p) in encoder for m in decoder for p in m.parameters())
    assert len(encoder) + sum(len(list(m.parameters())) for m in decoder) == len(list(net.parameters()))


@pytest.mark.parametrize(
    "values, message",
    [
        ({"widths": [18]}, "at least 2 branches"),
        ({"modules": [1, 3]}, "modules and blocks need 3 entries"),
        ({"decoder_widths": [64, 32]}, "decoder_widths needs 3 entries"),
        ({"widths": [18, 0, 72, 144]}, r"'generator.widths\[1\]': 0 is outside the valid range \[1, 1024\]"),
        ({"stem_width": 0}, r"'generator.stem_width': 0 is outside the valid range \[1, 512\]"),
    ],
)
def test_config_errors(values, message):
    overrides = [f"generator.{k}={v}".replace(" ", "") for k, v in values.items()]
    with pytest.raises(ConfigError, match=message):
        resolve(["generator=hrnet", *overrides])


def test_default_receptive_field():
    assert build_generator("hrnet").receptive_field == 1113


@pytest.mark.parametrize("stage1_width", [4, 1], ids=["transition-conv", "transition-identity"])
def test_receptive_field_matches_a_probe_of_the_real_widths(stage1_width):
    """The cached thin-network measurement is what a probe of a wider network gives."""
    small = HRNet(HRNetConfig(**{**SMALL, "stage1_width": stage1_width}))
    wide = measure_receptive_field(small, period=small.size_multiple, in_channels=1, height=512)
    assert wide == small.measured_receptive_field()
    assert small.receptive_field == round(wide.mean)
