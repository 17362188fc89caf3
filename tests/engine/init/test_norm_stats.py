"""train.norm_stats: which BatchNorm statistics a downstream run keeps, by init and task."""

from __future__ import annotations

import pytest
from torch import nn

from emkit.config import resolve
from emkit.engine.init.norm_stats import frozen_norms, norm_stats_mode


@pytest.mark.parametrize("task, init, expected", [
    ("background-removal", "random", "update"),
    ("segmentation", "random", "update"),
    ("background-removal", "self", "frozen"),   # restoration keeps the pretrained statistics
    ("denoise", "self", "frozen"),
    ("segmentation", "self", "update"),         # a mask head needs re-normalised features
])
def test_default_depends_on_init_and_task(task, init, expected):
    assert norm_stats_mode(resolve([f"task={task}", f"init={init}"], [])) == expected


@pytest.mark.parametrize("explicit", ["frozen", "update"])
def test_explicit_setting_wins(explicit):
    cfg = resolve(["task=segmentation", "init=self", f"train.norm_stats={explicit}"], [])
    assert norm_stats_mode(cfg) == explicit


def test_frozen_mode_lists_every_batchnorm():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.BatchNorm2d(2))
    assert len(frozen_norms(resolve(["task=background-removal", "init=self"], []), net)) == 2
    assert frozen_norms(resolve(["task=segmentation", "init=self"], []), net) == []
