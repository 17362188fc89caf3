"""``evaluate``: per-sample means over a split, counted by samples, and empty metric dicts."""

from __future__ import annotations

import contextlib

import pytest
import torch
from torch import nn

from emkit.engine.runtime.distributed import DistInfo
from emkit.engine.evaluation.split_metrics import evaluate, make_loader
from emkit.plugin_api import StepContext


class FakeObjective:
    """Metrics of one batch: ``value`` = the image mean per sample; ``constant`` = 1."""

    def __init__(self, metrics: bool = True) -> None:
        self.generator = nn.Conv2d(1, 1, 1)
        self.metrics = metrics
        self.modes: list[bool] = []

    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator}

    def validation_step(self, batch, ctx):
        self.modes.append(self.generator.training)
        if not self.metrics:
            return {}
        b = batch["image"].shape[0]
        return {"value": batch["image"].flatten(1).mean(1), "constant": torch.ones(b)}


def loader(n: int = 5, batch_size: int = 3):
    data = [{"image": torch.full((1, 2, 2), float(i))} for i in range(n)]
    return make_loader(data, batch_size, None, 0, False)


def ctx() -> StepContext:
    return StepContext(device=torch.device("cpu"), autocast=contextlib.nullcontext)


def test_means_are_over_samples_with_an_uneven_last_batch():
    objective = FakeObjective()
    metrics, first = evaluate(objective, loader(), ctx(), DistInfo(), salt=1, max_batches=None, seed=0)
    assert metrics == {"constant": 1.0, "value": pytest.approx(2.0)}  # mean of 0..4
    assert first["image"].shape[0] == 3
    assert objective.modes == [False, False] and objective.generator.training  # eval during, train after


def test_empty_metrics_give_an_empty_result():
    metrics, first = evaluate(FakeObjective(metrics=False), loader(), ctx(), DistInfo(), 1, None, 0)
    assert metrics == {} and first is not None


def test_max_batches_limits_the_split():
    metrics, _ = evaluate(FakeObjective(), loader(), ctx(), DistInfo(), 1, max_batches=1, seed=0)
    assert metrics["value"] == pytest.approx(1.0)  # samples 0, 1, 2
