"""Random-init schemes: measurable weight statistics, and which runs use which."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from emkit.errors import ConfigError
from emkit.models.init_schemes import apply_init


def net():
    return nn.Sequential(nn.Conv2d(16, 64, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.Conv2d(64, 1, 1))


def test_each_scheme_gives_its_documented_weight_scale():
    torch.manual_seed(0)
    fan_in, fan_out = 16 * 9, 64 * 9
    with torch.no_grad():
        _check_scales(fan_in, fan_out)
    with pytest.raises(ConfigError, match="random_init"):
        apply_init(net(), "xavier")


def _check_scales(fan_in, fan_out):
    m = apply_init(net(), "default")
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) == U(+-1/sqrt(fan_in))
    assert float(m[0].weight.abs().max()) <= bound
    assert float(m[0].weight.std()) == pytest.approx(bound / math.sqrt(3), rel=0.05)
    m = apply_init(net(), "kaiming")
    assert float(m[0].weight.std()) == pytest.approx(math.sqrt(2 / fan_out), rel=0.05) and float(m[0].bias.abs().max()) == 0
    m = apply_init(net(), "pix2pix")
    assert float(m[0].weight.std()) == pytest.approx(0.02, rel=0.05)
    assert float(m[1].weight.std()) == pytest.approx(0.02, rel=0.3) and float(m[1].weight.mean()) == pytest.approx(1, abs=0.01)


def test_downstream_random_runs_use_the_task_choice_and_pretexts_keep_pix2pix():
    from emkit.config import resolve
    from emkit.engine.init.generator_init import build_run_generator

    def first_conv_std(overrides):
        cfg = resolve(["generator=unet", "generator.blocks=2", "generator.width=8", *overrides])
        gen = build_run_generator(cfg, out_channels=1)
        conv = next(m for m in gen.modules() if isinstance(m, nn.Conv2d) and m.weight[0].numel() >= 36)
        return float(conv.weight.detach().std()), cfg

    pretext, _ = first_conv_std(["pretext=pix2pix"])
    assert pretext == pytest.approx(0.02, rel=0.25)
    default, cfg = first_conv_std(["task=segmentation"])
    assert cfg.tree["task"]["random_init"] == "default" and default > 0.05
    old, _ = first_conv_std(["task=segmentation", "task.random_init=pix2pix"])
    assert old == pytest.approx(0.02, rel=0.25)
    kaiming, _ = first_conv_std(["task=denoise", "task.random_init=kaiming"])
    assert kaiming > 0.05 and kaiming != default
