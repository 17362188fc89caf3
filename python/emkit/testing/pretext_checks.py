"""Behavioural contract of a ``Pretext`` plugin: steps, evaluation, panels and resume.

The pretext is built around a seeded generator (the kit's ``TinyGenerator`` unless a
registered one is named), its modules are bound exactly as the engine binds them
(``prepare_objective`` on the CPU) and it is run on one small batch from its default
dataset (tiny config) or on random uint8 images.

Options: ``config`` (pretext Config values; e.g. a smaller crop or discriminator),
``data`` (dataset name; None = ``default_data``; False = random tensors),
``data_config``, ``generator``, ``generator_config``, ``batch_size`` (2).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from emkit import registry
from emkit.testing import harness


@dataclasses.dataclass
class PretextSetup:
    pretext: Any
    optimizers: dict[str, torch.optim.Optimizer]
    batch: dict[str, Any]
    source: str



def build_pretext(name: str, *, config: Any = None, generator: str | None = None,
                  generator_config: Any = None) -> tuple[Any, dict[str, torch.optim.Optimizer]]:
    """``(pretext, optimizers)`` on the CPU with its modules bound, as a run builds them."""
    from emkit.engine.loop.objective_setup import prepare_objective

    cls = registry.load("pretext", name)
    gen = harness.make_generator(generator, generator_config)
    pretext = cls(harness.build_config("pretext", name, config), gen)
    modules = pretext.modules()
    assert isinstance(modules, dict) and modules.get("generator") is gen, (
        "modules() must be a dict holding the generator it was built with under 'generator'"
    )
    assert all(isinstance(m, torch.nn.Module) for m in modules.values()), "modules() values must be nn.Modules"
    optimizers = prepare_objective(pretext, torch.device("cpu")).optimizers
    assert isinstance(optimizers, dict) and optimizers, "configure_optimizers() must return {name: optimizer}"
    assert all(isinstance(o, torch.optim.Optimizer) for o in optimizers.values()), (
        "configure_optimizers() values must be torch.optim.Optimizer instances"
    )
    owned = {id(p) for m in modules.values() for p in m.parameters()}
    for opt_name, opt in optimizers.items():
        for group in opt.param_groups:
            assert all(id(p) in owned for p in group["params"]), (
                f"optimizer {opt_name!r} updates parameters outside modules(): they would not be checkpointed"
            )
    return pretext, optimizers


def setup_pretext(name: str, **options: Any) -> PretextSetup:
    opts = harness.objective_options("pretext", options)
    pretext, optimizers = build_pretext(name, config=opts["config"], generator=opts["generator"],
                                        generator_config=opts["generator_config"])
    batch, source = harness.objective_batch(
        type(pretext), data=opts["data"], data_config=opts["data_config"], batch_size=opts["batch_size"],
        target=None, needs=tuple(pretext.requires))
    return PretextSetup(pretext, optimizers, batch, source)


def check_pretext_class(name: str, **options: Any) -> None:
    """``requires`` names sample keys; defaults and presets resolve into a run config."""
    from emkit.testing.objective_checks import check_objective_class

    cls = registry.load("pretext", name)
    requires = tuple(cls.requires)
    assert "image" in requires and set(requires) <= {"image", "target", "mask"}, (
        f"requires must include 'image' and only name sample keys (image, target, mask), got {requires}"
    )
    check_objective_class("pretext", name)


def check_pretext_training_step(name: str, **options: Any) -> None:
    """A step returns finite float losses, updates the generator and leaves the batch alone."""
    s = setup_pretext(name, **options)
    original = harness.clone_batch(s.batch)
    gen_before = {k: v.detach().clone() for k, v in s.pretext.generator.state_dict().items()}
    batch = harness.clone_batch(s.batch)
    losses = s.pretext.training_step(batch, harness.make_context(seed=7))
    harness.assert_batch_unchanged(original, batch, "training_step")
    assert isinstance(losses, dict) and losses, "training_step must return a non-empty dict of losses"
    for key, value in losses.items():
        assert isinstance(value, float), f"loss {key!r} must be a Python float (use .item()), got {type(value).__name__}"
        assert value == value and abs(value) != float("inf"), f"loss {key!r} is {value}"
    after = s.pretext.generator.state_dict()
    assert any(not torch.equal(gen_before[k], after[k]) for k in gen_before), (
        "training_step did not update the generator"
    )


def check_pretext_evaluation(name: str, **options: Any) -> None:
    """``validation_step`` gives finite per-sample metrics, the same for the same seed."""
    s = setup_pretext(name, **options)
    b = len(s.batch["image"])
    for module in s.pretext.modules().values():
        module.eval()
    with torch.no_grad():
        first = s.pretext.validation_step(harness.clone_batch(s.batch), harness.make_context(seed=3))
        harness.assert_per_sample_metrics(first, b, "validation_step")
        second = s.pretext.validation_step(harness.clone_batch(s.batch), harness.make_context(seed=3))
    for key in first:
        assert torch.allclose(first[key].double(), second[key].double()), (
            f"validation metric {key!r} differs for the same ctx.seed: draw randomness from ctx only"
        )


def check_pretext_samples(name: str, **options: Any) -> None:
    """``sample_panels`` gives same-sized ``(B, C, H, W)`` panels in [0, 1]."""
    s = setup_pretext(name, **options)
    with torch.no_grad():
        panels = s.pretext.sample_panels(harness.clone_batch(s.batch), harness.make_context(seed=3))
    harness.assert_panels(panels, len(s.batch["image"]), "sample_panels")


def check_pretext_state(name: str, **options: Any) -> None:
    """Resuming from a checkpoint (pretext rebuilt from its saved config) matches the
    uninterrupted run."""
    from emkit.config.coerce import build_dataclass, to_dict

    opts = harness.objective_options("pretext", options)
    s = setup_pretext(name, **options)
    saved = to_dict(s.pretext.config)
    cls = registry.load("pretext", name)

    def build() -> tuple[Any, dict[str, torch.optim.Optimizer]]:
        return build_pretext(name, config=build_dataclass(cls.Config, saved, "pretext"),
                             generator=opts["generator"], generator_config=opts["generator_config"])

    def step(pretext: Any, batch: dict[str, Any], seed: int) -> None:
        pretext.training_step(batch, harness.make_context(seed=seed))

    harness.checkpoint_round_trip(build, step, s.batch)


PRETEXT_CHECKS = [
    ("class", check_pretext_class),
    ("training_step", check_pretext_training_step),
    ("evaluation", check_pretext_evaluation),
    ("samples", check_pretext_samples),
    ("state", check_pretext_state),
]
