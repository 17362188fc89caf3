"""``train.keep_best``: the best-by-validation generator is exported, and eval can use it."""

from __future__ import annotations

import json
import types

import pytest
import torch
from torch import nn

from emkit.engine.runs.keep_best import higher_is_better, read_best, update_best
from emkit.errors import ConfigError


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.config = types.SimpleNamespace()
        self.w = nn.Parameter(torch.zeros(1))


def cfg(metric):
    return types.SimpleNamespace(train=types.SimpleNamespace(keep_best=metric), plugin_name=lambda s: "tiny")


def test_directions():
    assert higher_is_better("val_dice") and higher_is_better("test_psnr")
    assert not higher_is_better("val_l1") and not higher_is_better("val_l1_identity")
    assert not higher_is_better("val_bce")


def test_keeps_the_best_epoch_by_direction(tmp_path, monkeypatch):
    monkeypatch.setattr("emkit.engine.runs.keep_best.generator_spec", lambda name, g: {"name": name, "config": {}})
    gen = Tiny()
    saved = []
    for epoch, dice in enumerate([0.5, 0.7, 0.6, 0.7, 0.8], 1):
        gen.w.data.fill_(epoch)
        saved.append(update_best(tmp_path, cfg("dice"), {"val_dice": dice, "val_l1": 1 - dice},
                                 epoch=epoch, step=epoch * 10, generator=gen))
    assert saved == [True, True, False, False, True]
    assert read_best(tmp_path) == {"metric": "val_dice", "value": 0.8, "mode": "max", "epoch": 5, "step": 50}
    from safetensors.torch import load_file

    assert float(load_file(str(tmp_path / "best" / "generator.safetensors"))["w"]) == 5.0
    assert json.loads((tmp_path / "best" / "generator.json").read_text())["best"]["epoch"] == 5


def test_lower_is_better_and_unknown_metric(tmp_path, monkeypatch):
    monkeypatch.setattr("emkit.engine.runs.keep_best.generator_spec", lambda name, g: {"name": name, "config": {}})
    gen = Tiny()
    got = [update_best(tmp_path, cfg("val_l1"), {"val_l1": v}, epoch=e, step=e, generator=gen)
           for e, v in enumerate([0.3, 0.2, 0.25], 1)]
    assert got == [True, True, False] and read_best(tmp_path)["epoch"] == 2
    with pytest.raises(ConfigError, match="train.keep_best=dcie: the validation metrics are val_dice"):
        update_best(tmp_path, cfg("dcie"), {"val_dice": 0.1}, epoch=1, step=1, generator=gen)
    assert update_best(tmp_path, cfg(None), {"val_dice": 0.1}, epoch=1, step=1, generator=gen) is False
