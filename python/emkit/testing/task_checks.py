"""Behavioural contract of a ``Task`` plugin, exercised through the engine's own adapter.

Every check builds the task from its config, a seeded generator (the kit's
``TinyGenerator`` unless a registered one is named) with the task's output channels,
and the engine's ``TaskObjective`` -- the object the training loop drives -- then runs
it on one small batch from the task's dataset (tiny config) or on random tensors.

Options (all checks accept them; ``run_contract("task", name, **options)``):
``config`` (task Config values), ``data`` (dataset name; None = ``default_data``; False =
random tensors), ``data_config`` (dataset values on top of ``TINY_DATA``), ``generator``
and ``generator_config`` (None = ``TinyGenerator``), ``batch_size`` (2).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from emkit import registry
from emkit.testing import harness


@dataclasses.dataclass
class TaskSetup:
    """One task wired to the engine: the task, its objective, optimizers and a batch."""

    task: Any
    objective: Any
    optimizers: dict[str, torch.optim.Optimizer]
    batch: dict[str, Any]
    source: str



def build_task_objective(name: str, *, config: Any = None, generator: str | None = None,
                         generator_config: Any = None) -> tuple[Any, Any, dict[str, torch.optim.Optimizer]]:
    """``(task, TaskObjective, optimizers)`` on the CPU, built the way a run builds them."""
    from emkit.engine.loop.objective_setup import prepare_objective
    from emkit.engine.loop.task_adapter import TaskObjective

    cls = registry.load("task", name)
    task = cls(harness.build_config("task", name, config))
    out = task.out_channels
    assert isinstance(out, int) and not isinstance(out, bool) and out >= 1, (
        f"out_channels must be a positive int, got {out!r}"
    )
    gen = harness.make_generator(generator, generator_config, out_channels=out)
    objective = TaskObjective(task, gen, harness.resolved_config())
    optimizers = prepare_objective(objective, torch.device("cpu")).optimizers
    return task, objective, optimizers


def setup_task(name: str, **options: Any) -> TaskSetup:
    """Build the task, its objective and a batch (see the module docstring for options)."""
    opts = harness.objective_options("task", options)
    task, objective, optimizers = build_task_objective(
        name, config=opts["config"], generator=opts["generator"], generator_config=opts["generator_config"])
    batch, source = harness.objective_batch(
        type(task), data=opts["data"], data_config=opts["data_config"], batch_size=opts["batch_size"],
        target=task.dataset_target, needs=("image", task.target_key))
    return TaskSetup(task, objective, optimizers, batch, source)


def check_task_class(name: str, **options: Any) -> None:
    """Class attributes: ``target_key``, ``dataset_target``, defaults, presets; the run resolves."""
    from emkit.data.targets import TASK_KINDS
    from emkit.testing.objective_checks import check_objective_class

    cls = registry.load("task", name)
    assert isinstance(cls.target_key, str) and cls.target_key in ("target", "mask"), (
        f"target_key must be 'target' or 'mask' (the sample keys datasets provide), got {cls.target_key!r}"
    )
    assert cls.dataset_target is None or cls.dataset_target in TASK_KINDS, (
        f"dataset_target must be None or one of {', '.join(TASK_KINDS)}, got {cls.dataset_target!r}"
    )
    check_objective_class("task", name)


def check_task_training_step(name: str, **options: Any) -> None:
    """``prepare_batch`` is deterministic per seed and leaves the batch alone; the loss is a
    finite scalar with a gradient; a step through the engine changes the weights."""
    s = setup_task(name, **options)
    b = len(s.batch["image"])
    original = harness.clone_batch(s.batch)
    ctx = harness.make_context(seed=7)
    prepared = s.task.prepare_batch(harness.clone_batch(s.batch), ctx)
    again = s.task.prepare_batch(harness.clone_batch(s.batch), harness.make_context(seed=7))
    harness.assert_same_tensors(prepared, again, "prepare_batch")
    assert isinstance(prepared, dict) and "input" in prepared, "prepare_batch must return the batch with 'input'"
    x = prepared["input"]
    gen = s.objective.generator
    assert torch.is_tensor(x) and x.is_floating_point() and x.dim() == 4, "'input' must be a float (B, C, H, W) tensor"
    assert x.shape[:2] == (b, gen.in_channels), (
        f"'input' is {tuple(x.shape)}; expected ({b}, {gen.in_channels}, H, W) for the generator"
    )
    assert torch.isfinite(x).all(), "'input' has non-finite values"
    prediction = gen(x)
    loss = s.task.loss(prediction.float(), prepared)
    assert torch.is_tensor(loss) and loss.dim() == 0, f"loss must be a scalar tensor, got {getattr(loss, 'shape', loss)}"
    assert torch.isfinite(loss), f"loss is {loss.item()}"
    assert loss.requires_grad, "loss does not depend on the prediction (no gradient)"
    before = harness.parameters_of(s.objective.modules())
    batch = harness.clone_batch(s.batch)
    losses = s.objective.training_step(batch, harness.make_context(seed=7))
    harness.assert_batch_unchanged(original, batch, "the training step")
    assert isinstance(losses, dict) and all(isinstance(v, float) for v in losses.values()), (
        "the step must report float losses"
    )
    after = harness.parameters_of(s.objective.modules())
    assert any(not torch.equal(before[k], after[k]) for k in before), "a training step left every weight unchanged"


def check_task_evaluation(name: str, **options: Any) -> None:
    """``prepare_eval_batch`` is deterministic and the metrics are finite 1-D per-sample tensors."""
    s = setup_task(name, **options)
    b = len(s.batch["image"])
    original = harness.clone_batch(s.batch)
    for module in s.objective.modules().values():
        module.eval()
    with torch.no_grad():
        first = s.task.prepare_eval_batch(harness.clone_batch(s.batch), harness.make_context(seed=3))
        second = s.task.prepare_eval_batch(harness.clone_batch(s.batch), harness.make_context(seed=4))
        harness.assert_same_tensors(first, second, "prepare_eval_batch (validation must not be random)")
        batch = harness.clone_batch(s.batch)
        metrics = s.objective.validation_step(batch, harness.make_context(seed=3))
        harness.assert_batch_unchanged(original, batch, "validation")
        harness.assert_per_sample_metrics(metrics, b, "metrics")
        repeat = s.objective.validation_step(harness.clone_batch(s.batch), harness.make_context(seed=3))
    for key in metrics:
        assert torch.allclose(metrics[key].double(), repeat[key].double(), equal_nan=True), (
            f"metric {key!r} differs between two evaluations of the same batch"
        )


def check_task_samples(name: str, **options: Any) -> None:
    """``sample_panels`` gives same-sized ``(B, C, H, W)`` panels in [0, 1] the grid can tile."""
    s = setup_task(name, **options)
    with torch.no_grad():
        panels = s.objective.sample_panels(harness.clone_batch(s.batch), harness.make_context(seed=3))
    harness.assert_panels(panels, len(s.batch["image"]), "sample_panels")


def check_task_state(name: str, **options: Any) -> None:
    """A checkpoint taken mid-run resumes to the same weights as the uninterrupted run, with
    the task rebuilt from its config as saved in ``config.yaml``."""
    from emkit.config.coerce import build_dataclass, to_dict

    opts = harness.objective_options("task", options)
    s = setup_task(name, **options)
    saved = to_dict(s.task.config)
    cls = registry.load("task", name)

    def build() -> tuple[Any, dict[str, torch.optim.Optimizer]]:
        config = build_dataclass(cls.Config, saved, "task")
        _, objective, optimizers = build_task_objective(
            name, config=config, generator=opts["generator"], generator_config=opts["generator_config"])
        return objective, optimizers

    def step(objective: Any, batch: dict[str, Any], seed: int) -> None:
        objective.training_step(batch, harness.make_context(seed=seed))

    harness.checkpoint_round_trip(build, step, s.batch)


#: (check id, function) in the order they run.
TASK_CHECKS = [
    ("class", check_task_class),
    ("training_step", check_task_training_step),
    ("evaluation", check_task_evaluation),
    ("samples", check_task_samples),
    ("state", check_task_state),
]
