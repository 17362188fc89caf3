"""head_init=prior: an untrained downstream generator starts at the task's best constant."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from emkit.config import resolve
from emkit.engine.init.generator_init import build_run_generator
from emkit.engine.init.output_prior import SPREAD_FRACTION, _mean_output, _output_stats, apply_output_prior, \
    head_bias_parameter
from emkit.data.build import build_dataset
from emkit import registry
from emkit.plugin_api import from_model, to_unit
from run_support import needs_unet

SMALL = ["generator=unet", "generator.blocks=2", "generator.width=4"]


def _setup(task: str, data: str, *extra: str):
    cfg = resolve([f"task={task}", *SMALL, f"data={data}", "data.size=64", "data.length=8", *extra], [])
    task_obj = registry.load("task", task)(cfg.plugin_config("task"))
    gen = build_run_generator(cfg, out_channels=task_obj.out_channels)
    ds = build_dataset(cfg.plugin_name("data"), cfg.plugin_config("data"), "train", task_obj.dataset_target)
    return cfg, task_obj, gen, ds


def _inputs(task_obj, ds) -> torch.Tensor:
    return torch.cat([task_obj.prepare_eval_batch({k: v.unsqueeze(0) for k, v in ds[i].items()
                                                   if isinstance(v, torch.Tensor)}, None)["input"]
                      for i in range(len(ds))])


@needs_unet
def test_restoration_starts_at_the_training_target_mean():
    cfg, task, gen, ds = _setup("background-removal", "synthetic-stem")
    target_mean = torch.stack([to_unit(ds[i]["target"]).float().mean() for i in range(len(ds))]).mean()
    before = float(from_model(_mean_output(gen, _inputs(task, ds), cfg))[0])
    note = apply_output_prior(task, gen, ds, cfg)
    after = float(from_model(_mean_output(gen, _inputs(task, ds), cfg))[0])
    assert note is not None and "output head set" in note and "a tenth of the targets'" in note
    assert abs(before - float(target_mean)) > 0.05, "the test needs an untrained model that is off the mean"
    assert after == pytest.approx(float(target_mean), abs=0.01)


@needs_unet
def test_random_init_output_varies_a_tenth_of_the_targets():
    cfg, task, gen, ds = _setup("background-removal", "synthetic-stem")
    targets = torch.cat([to_unit(ds[i]["target"]).float() for i in range(len(ds))]) * 2 - 1
    _, std_before = _output_stats(gen, _inputs(task, ds), cfg)
    apply_output_prior(task, gen, ds, cfg)
    _, std_after = _output_stats(gen, _inputs(task, ds), cfg)
    assert float(std_before[0]) > 2 * SPREAD_FRACTION * float(targets.std()), "the test needs a noisy random head"
    assert float(std_after[0]) == pytest.approx(SPREAD_FRACTION * float(targets.std()), rel=0.15)


@needs_unet
def test_pretrained_head_weights_are_not_scaled(tmp_path):
    from emkit.engine.runs.weights import export_generator
    from emkit.models import generator_spec

    cfg, task, gen, ds = _setup("background-removal", "synthetic-stem")
    export_generator(tmp_path, generator_spec("unet", gen), gen)
    cfg, task, gen, ds = _setup("background-removal", "synthetic-stem", f"init={tmp_path}")
    weight = gen.head.weight.detach().clone()
    note = apply_output_prior(task, gen, ds, cfg)
    assert torch.equal(gen.head.weight, weight) and "spread" not in note


@needs_unet
def test_keep_leaves_the_bias_alone():
    cfg, task, gen, ds = _setup("background-removal", "synthetic-stem", "task.head_init=keep")
    bias = head_bias_parameter(gen).detach().clone()
    assert apply_output_prior(task, gen, ds, cfg) is None
    assert torch.equal(head_bias_parameter(gen), bias)


@needs_unet
def test_segmentation_starts_at_the_particle_rate():
    cfg, task, gen, ds = _setup("segmentation", "synthetic-hrtem", "task.head_init=prior")
    fraction = torch.stack([(ds[i]["mask"] > 0).float().mean() for i in range(len(ds))]).mean()
    apply_output_prior(task, gen, ds, cfg)
    mean_logit = float(_mean_output(gen, _inputs(task, ds), cfg)[0])
    assert mean_logit == pytest.approx(math.log(fraction / (1 - fraction)), abs=0.02)


def _seg(pos_weight=1.0, classes=2):
    cls = registry.load("task", "segmentation")
    return cls(cls.Config(classes=classes, pos_weight=pos_weight))


def test_binary_prior_minimises_weighted_bce():
    mask = torch.zeros(1, 1, 4, 4, dtype=torch.long)
    mask[..., :1, :] = 1  # a quarter of the pixels are particles
    assert float(_seg().output_prior({"mask": mask})[0]) == pytest.approx(math.log(0.25 / 0.75), abs=1e-5)
    assert float(_seg(pos_weight=3.0).output_prior({"mask": mask})[0]) == pytest.approx(0.0, abs=1e-5)
    logit = _seg(pos_weight=3.0).output_prior({"mask": mask}).requires_grad_()
    loss = _seg(pos_weight=3.0).loss(logit.reshape(1, 1, 1, 1).expand(1, 1, 4, 4), {"mask": mask})
    loss.backward()
    assert abs(float(logit.grad[0])) < 1e-5  # the constant is a stationary point of the task's loss


def test_multiclass_prior_is_log_frequency():
    mask = torch.tensor([[[[0, 0, 1, 2]]]])
    prior = _seg(classes=3).output_prior({"mask": mask})
    assert torch.allclose(prior, torch.log(torch.tensor([0.5, 0.25, 0.25])))


class _NoBiasHead(nn.Module):
    out_channels = 1

    def __init__(self):
        super().__init__()
        self.head = nn.Conv2d(1, 1, 1, bias=False)


@needs_unet
def test_head_without_bias_is_reported_not_ignored():
    cfg, task, _, ds = _setup("background-removal", "synthetic-stem")
    note = apply_output_prior(task, _NoBiasHead(), ds, cfg)
    assert note.startswith("warning:") and "no per-channel bias" in note


def test_segmentation_keeps_its_head_by_default():
    assert resolve(["task=segmentation"], []).plugin_config("task").head_init == "keep"
    assert resolve(["task=background-removal"], []).plugin_config("task").head_init == "prior"


def test_paper_preset_keeps_the_papers_head():
    for task in ("segmentation", "background-removal"):
        cfg = resolve([f"task={task}", "preset=paper"], [])
        assert cfg.plugin_config("task").head_init == "keep"
