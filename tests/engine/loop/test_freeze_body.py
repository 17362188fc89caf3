"""``train.freeze=body``: only the output head learns (the frozen-feature probe), recorded and refused where it cannot hold."""

from __future__ import annotations

import pytest
import torch
import yaml

from emkit.config import resolve
from emkit.engine.loop.objective_setup import build_objective, prepare_objective
from emkit.errors import ConfigError
from emkit.testing.fixtures import one_thread, run_emkit  # noqa: F401  (autouse: one thread)

TASK = ["task=segmentation", "generator=unet", "generator.blocks=2", "generator.width=4", "data=synthetic-hrtem",
        "data.size=64", "data.length=8", "data.val_length=2", "data.test_length=2", "task.crop=32",
        "train.batch_size=2", "train.device=cpu"]


def test_freeze_body_settles_frozen_norm_statistics_in_the_record():
    cfg = resolve([*TASK, "train.freeze=body"])
    assert cfg.tree["train"]["freeze"] == "body" and cfg.tree["train"]["norm_stats"] == "frozen"
    assert resolve([*TASK, "train.freeze=body", "train.norm_stats=frozen"]).train.norm_stats == "frozen"


@pytest.mark.parametrize("clash, named", [
    ("train.norm_stats=update", "norm_stats=update"),
    ("train.body_lr_mult=0.1", "body_lr_mult=0.1"),
    ("train.head_first_steps=5", "head_first_steps=5"),
])
def test_settings_that_would_move_the_body_are_refused(clash, named):
    with pytest.raises(ConfigError, match=f"freeze=body .*{named}"):
        resolve([*TASK, "train.freeze=body", clash])


def test_a_step_changes_the_head_only():
    cfg = resolve([*TASK, "train.freeze=body"])
    objective = build_objective(cfg)
    prepared = prepare_objective(objective, torch.device("cpu"))
    gen = objective.generator
    head = gen.head_parameter_names()
    before = {k: v.detach().clone() for k, v in gen.state_dict().items()}
    gen_rng = torch.Generator().manual_seed(0)
    batch = {"image": (torch.rand(2, 1, 64, 64, generator=gen_rng) * 255).to(torch.uint8),
             "mask": (torch.rand(2, 1, 64, 64, generator=gen_rng) > 0.7).to(torch.uint8)}
    for step in range(2):
        prepared.ctx.step, prepared.ctx.seed = step, step
        objective.training_step(batch, prepared.ctx)
    after = gen.state_dict()
    changed = {k for k in after if not torch.equal(before[k], after[k])}
    assert changed and changed <= head  # BatchNorm running statistics included: only the head moved
    assert [g["role"] for g in objective.optimizer.param_groups] == ["head"]


def test_the_run_records_freeze_body(tmp_path):
    run_emkit("run", *TASK, "train.freeze=body", "train.epochs=1", f"runs_dir={tmp_path}", "name=probe",
              cwd=tmp_path, check=True)
    cfg = yaml.safe_load((tmp_path / "probe" / "config.yaml").read_text())
    assert cfg["train"]["freeze"] == "body" and cfg["train"]["norm_stats"] == "frozen"
