"""``unet``: presets and receptive-field arithmetic, config errors, structure, CLI summary."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from emkit.cli.app import app
from emkit.config import resolve
from emkit.errors import ConfigError
from emkit.models import build_generator
from emkit_builtin.generators.blocks import ResidualBlock
from emkit_builtin.generators.unet import UNet, UNetConfig
from emkit_builtin.generators.unet_rf import PRESETS, preset_names, receptive_field, valid_rfs

PAPER_RFS = {2: [44, 84, 116], 3: [96, 176, 240], 4: [200, 360, 424]}


def test_presets_are_the_papers_nine():
    assert {b: sorted(r) for b, r in PRESETS.items()} == PAPER_RFS
    assert preset_names()[0] == "U-Net_2_44" and preset_names()[-1] == "U-Net_4_424"


@pytest.mark.parametrize("blocks, rf", [(b, r) for b, rs in PAPER_RFS.items() for r in rs])
def test_preset_formula_and_model(blocks, rf):
    pools, dilations = PRESETS[blocks][rf]
    assert receptive_field(pools, dilations) == rf
    net = build_generator("unet", {"blocks": blocks, "rf": rf, "width": 2})
    assert net.receptive_field == rf and net.variant == f"U-Net_{blocks}_{rf}"
    assert net.size_multiple == 2**blocks


def test_formula_baselines_and_other_layouts():
    assert [receptive_field((2,) * b, (1,) * (b + 1)) for b in (2, 3, 4)] == [44, 96, 200]
    assert receptive_field((2, 4, 2), (2, 1, 1, 1)) == 176  # larger pool instead of dilation
    assert valid_rfs(5) == [receptive_field((2,) * 5, (1,) * 6)]


def test_presets_of_one_depth_share_parameters():
    for blocks, rfs in PAPER_RFS.items():
        nets = [build_generator("unet", {"blocks": blocks, "rf": rf}) for rf in rfs]
        counts = {sum(p.numel() for p in net.parameters()) for net in nets}
        assert len(counts) == 1, f"blocks={blocks}: the RF presets must differ only in context"


def test_default_is_unet_4_200_width_16():
    net = build_generator("unet")
    assert (net.config.blocks, net.receptive_field, net.config.width) == (4, 200, 16)
    assert net.pools == (2, 2, 2, 2) and net.dilations == (1,) * 5


def test_structure_follows_sytwu():
    net = build_generator("unet", {"blocks": 3, "width": 4, "in_channels": 2, "out_channels": 3})
    assert [b.conv1.out_channels for b in net.encoder] == [4, 8, 16]
    assert net.bottleneck.conv1.out_channels == 32
    assert [b.conv1.in_channels for b in net.decoder] == [8 + 4, 16 + 8, 32 + 16]
    assert all(isinstance(m, nn.MaxPool2d) for m in net.down)
    assert all(isinstance(m, nn.Upsample) and m.mode == "nearest" for m in net.up)
    block = net.encoder[0]
    assert isinstance(block, ResidualBlock) and block.skip.kernel_size == (1, 1)
    assert net.head.kernel_size == (1, 1) and (net.head.in_channels, net.head.out_channels) == (4, 3)
    assert net.encoder_modules() == [*net.encoder, net.bottleneck]


def test_no_final_activation():
    torch.manual_seed(0)
    net = build_generator("unet", {"blocks": 2, "width": 4})
    with torch.no_grad():
        net.head.bias.fill_(-10.0)
        y = net(torch.rand(2, 1, 16, 16))
    assert (y < 0).any() and (y < -1).any()


def test_dilations_reach_the_layers():
    net = build_generator("unet", {"blocks": 4, "rf": 424, "width": 2})
    assert [b.conv1.dilation[0] for b in net.encoder] == [1, 1, 2, 2]
    assert net.bottleneck.conv2.dilation[0] == 3
    assert [b.conv2.dilation[0] for b in net.decoder] == [1, 1, 2, 2]


def test_explicit_pools_and_dilations():
    net = build_generator("unet", {"blocks": 3, "pools": [2, 4, 2], "dilations": [2, 1, 1, 1], "width": 2})
    assert net.receptive_field == 176 and net.size_multiple == 16
    y = net(torch.rand(1, 1, 30, 33))
    assert y.shape == (1, 1, 30, 33)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["generator.blocks=3", "generator.rf=100"], "rf=100 is not available for blocks=3; valid: 96, 176, 240"),
        (["generator.blocks=4", "generator.rf=44"], "valid: 200, 360, 424"),
        (["generator.blocks=3", "generator.pools=[2,2]"], "pools needs 3 entries"),
        (["generator.blocks=2", "generator.dilations=[1,1]"], "dilations needs 3 entries"),
        (["generator.blocks=2", "generator.rf=84", "generator.pools=[2,2]"], "contradicts pools=[2, 2]"),
        (["generator.variant=U-Net_4_425"], "unknown variant 'U-Net_4_425'"),
        (["generator.variant=VGG"], "not of the form U-Net_<blocks>_<rf>"),
        (["generator.variant=U-Net_2_44", "generator.rf=84"], "contradicts rf=84"),
        (["generator.variant=U-Net_4_424", "generator.blocks=2"], "contradicts blocks=2"),
        (["generator.blocks=7"], "'generator.blocks': 7 is outside the valid range [1, 6]"),
        (["generator.width=0"], "'generator.width': 0 is outside the valid range [1, 256]"),
    ],
)
def test_invalid_configs_are_one_line_config_errors(overrides, message):
    with pytest.raises(ConfigError) as err:
        resolve(["generator=unet", *overrides])
    text = str(err.value)
    assert message in text and "\n" not in text


def test_rf_selects_preset_through_the_cli_config():
    cfg = resolve(["generator=unet", "generator.blocks=4", "generator.rf=424"])
    assert (cfg.plugin_config("generator").blocks, cfg.plugin_config("generator").rf) == (4, 424)


@pytest.mark.parametrize("spelling", ["U-Net_3_240", "unet_3_240", "UNet_3_240"])
def test_variant_name_resolves_and_is_normalised(spelling):
    cfg = resolve(["generator=unet", f"generator.variant={spelling}"])
    gen_cfg = cfg.plugin_config("generator")
    assert (gen_cfg.blocks, gen_cfg.rf, gen_cfg.variant) == (3, 240, None)
    assert cfg.tree["generator"]["variant"] is None  # config.yaml holds blocks/rf only
    assert UNet(gen_cfg).receptive_field == 240


def test_config_copy_is_private():
    cfg = UNetConfig(blocks=2, width=2)
    net = UNet(cfg)
    net.replace_head(5)
    assert net.config.out_channels == 5 and cfg.out_channels == 1


def test_plugins_show_prints_params_rf_gflops():
    result = CliRunner().invoke(
        app, ["plugins", "show", "generator=unet", "generator.blocks=4", "generator.rf=424", "--size", "64"]
    )
    assert result.exit_code == 0, result.output
    assert "424 px" in result.output and "parameters" in result.output and "GFLOPs @ 64x64" in result.output
    expected = sum(p.numel() for p in build_generator("unet", {"blocks": 4, "rf": 424}).parameters())
    assert f"{expected:,}" in result.output
