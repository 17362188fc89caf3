"""Each downstream task trains a few steps on an easy synthetic case and its metric improves."""

from __future__ import annotations

import pytest
import torch

from emkit.config import resolve
from emkit.engine.loop.objective_setup import build_objective, prepare_objective
from emkit.engine.loop.run_datasets import run_dataset

CASES = {
    # task: (dataset, metric, higher is better)
    "segmentation": ("synthetic-hrtem", "dice", True),
    "denoise": ("synthetic-stem", "l1", False),
    "background-removal": ("synthetic-stem", "l1", False),
    "super-resolution": ("synthetic-stem", "l1", False),
}


@pytest.mark.parametrize("task", sorted(CASES))
def test_task_metric_moves_the_right_way(task):
    data, metric, higher = CASES[task]
    cfg = resolve([f"task={task}", f"data={data}", "data.size=64", "data.length=4", "task.crop=48",
                   "generator=unet", "generator.blocks=2", "generator.width=8", "train.lr=3e-3",
                   "train.device=cpu", "seed=1"])
    objective = build_objective(cfg)
    ctx = prepare_objective(objective, torch.device("cpu")).ctx
    ds = run_dataset(cfg, "train", objective.dataset_target)
    batch = torch.utils.data.default_collate([ds[i] for i in range(4)])

    def score() -> float:
        objective.generator.eval()
        with torch.no_grad():
            value = objective.validation_step(batch, ctx)[metric].mean().item()
        objective.generator.train()
        return value

    before = score()
    losses = []
    for step in range(80):
        ctx.step, ctx.seed = step, 100 + step
        losses.append(objective.training_step(batch, ctx)["loss"])
    after = score()
    assert sum(losses[-5:]) < sum(losses[:5]), losses
    if higher:
        assert after > max(before + 0.1, 0.6), (before, after)
    else:
        assert after < before * 0.8, (before, after)
