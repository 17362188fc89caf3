"""The ``Objective`` protocol and the one ``net()`` convention, for pretexts and tasks alike."""

from __future__ import annotations

from torch import nn

from emkit.plugin_api import Objective
from emkit.testing.pretext_checks import build_pretext
from emkit.testing.task_checks import build_task_objective


def test_pretext_and_task_objective_satisfy_the_protocol():
    pretext, _ = build_pretext("pix2pix", config={"crop": 16, "d_width": 4})
    _, task_objective, _ = build_task_objective("segmentation", config={"crop": 16})
    for objective in (pretext, task_objective):
        assert isinstance(objective, Objective)
        assert objective.net() is objective.net("generator")
        assert objective.modules()["generator"] is objective.generator
    assert pretext.dataset_target is None and task_objective.dataset_target == "segmentation"


def test_net_returns_the_bound_module_once_bound():
    _, objective, _ = build_task_objective("segmentation", config={"crop": 16})
    wrapper = nn.Sequential(objective.generator)
    objective.bind({"generator": wrapper})
    assert objective.net() is wrapper and objective.modules()["generator"] is objective.generator

