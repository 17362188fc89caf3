"""The contract kit fails plugins for the mistakes it exists to catch, and passes a correct one.

Fake plugins are registered through fake entry points (``fake_plugins`` in the root
conftest), so nothing is installed; each broken plugin differs from a correct one by one
mistake, and the test asserts which check reports it.
"""

from __future__ import annotations

import textwrap

import pytest

from emkit.testing import contract_checks, run_contract, validate_plugin
from emkit.testing.runner import collect_problems

SOURCE = textwrap.dedent(
    '''
    import dataclasses
    import torch
    from emkit.interfaces import DataSource, Task

    @dataclasses.dataclass
    class Cfg:
        weight: float = 1.0

    class GoodTask(Task):
        """L1 restoration: the smallest correct task."""
        Config = Cfg
        target_key = "target"

        @property
        def out_channels(self):
            return 1

        def loss(self, prediction, batch):
            return self.config.weight * (prediction - batch["target"].float() / 255).abs().mean()

        def metrics(self, prediction, batch):
            return {"l1": (prediction - batch["target"].float() / 255).abs().mean((1, 2, 3))}

    class ScalarMetric(GoodTask):
        def metrics(self, prediction, batch):
            return {"l1": (prediction - batch["target"].float() / 255).abs().mean()}

    class HiddenState(GoodTask):
        calls = 0
        def loss(self, prediction, batch):
            self.calls += 1  # training state outside modules/optimizers: resume diverges
            return super().loss(prediction, batch) * self.calls

    class RandomEval(GoodTask):
        def prepare_eval_batch(self, batch, ctx):
            out = super().prepare_eval_batch(batch, ctx)
            return {**out, "input": out["input"] + torch.rand_like(out["input"])}

    class InPlace(GoodTask):
        def prepare_batch(self, batch, ctx):
            batch["image"] += 1
            return super().prepare_batch(batch, ctx)

    class WrongTargetKey(GoodTask):
        target_key = "labels"

    @dataclasses.dataclass
    class DataCfg:
        size: int = 16
        length: int = 4

    class GoodData(DataSource):
        """Deterministic random images with masks."""
        Config = DataCfg
        provides = ("mask",)
        def __len__(self):
            return self.config.length
        def __getitem__(self, i):
            if not 0 <= i < len(self):
                raise IndexError(i)
            g = torch.Generator().manual_seed(i)
            img = torch.randint(0, 255, (1, self.config.size, self.config.size), generator=g, dtype=torch.uint8)
            return {"image": img, "mask": (img > 128).to(torch.uint8)}

    class Nondeterministic(GoodData):
        def __getitem__(self, i):
            s = super().__getitem__(i)
            return {**s, "image": torch.randint(0, 255, s["image"].shape, dtype=torch.uint8)}

    class FloatMask(GoodData):
        def __getitem__(self, i):
            s = super().__getitem__(i)
            return {**s, "mask": s["mask"].float()}

    class Unpicklable(GoodData):
        def __init__(self, config, split="train"):
            super().__init__(config, split)
            self.transform = lambda x: x

    class NoIndexError(GoodData):
        def __getitem__(self, i):
            return super().__getitem__(i % len(self))
    '''
)


@pytest.fixture
def plugins(fake_plugins, tmp_path):
    (tmp_path / "kit_fakes.py").write_text(SOURCE)
    (tmp_path / "kit_private.py").write_text(SOURCE + "\nfrom emkit.ops._reference import *  # noqa\n")
    entries = [("task", n, f"kit_fakes:{c}", "fake-dist") for n, c in [
        ("good", "GoodTask"), ("scalar-metric", "ScalarMetric"), ("hidden-state", "HiddenState"),
        ("random-eval", "RandomEval"), ("in-place", "InPlace"), ("wrong-target-key", "WrongTargetKey"),
        ("Bad_Name", "GoodTask")]]
    entries.append(("task", "private", "kit_private:GoodTask", "fake-dist"))
    entries += [("data", n, f"kit_fakes:{c}", "fake-dist") for n, c in [
        ("good-data", "GoodData"), ("nondeterministic", "Nondeterministic"), ("float-mask", "FloatMask"),
        ("unpicklable", "Unpicklable"), ("no-index-error", "NoIndexError")]]
    fake_plugins(*entries)


def failed_checks(kind: str, name: str) -> dict[str, str]:
    failures, _ = collect_problems(kind, name)
    return dict(f.split(": ", 1) for f in failures)


def test_correct_plugins_pass(plugins):
    assert validate_plugin("task", "good") == []
    assert validate_plugin("data", "good-data") == []
    assert run_contract("task", "good") == []


@pytest.mark.parametrize("kind, name, check, message", [
    ("task", "scalar-metric", "evaluation", "1-D with one value per sample"),
    ("task", "hidden-state", "state", "resuming from a checkpoint diverges"),
    ("task", "random-eval", "evaluation", "not deterministic"),
    ("task", "in-place", "training_step", "in place"),
    ("task", "wrong-target-key", "class", "target_key"),
    ("task", "Bad_Name", "registration", "lowercase"),
    ("task", "private", "imports", "emkit.ops._reference"),
    ("data", "nondeterministic", "samples", "deterministic"),
    ("data", "float-mask", "samples", "uint8 class indices"),
    ("data", "unpicklable", "pickle", "cannot be pickled"),
    ("data", "no-index-error", "samples", "IndexError"),
])
def test_each_mistake_fails_its_check(plugins, kind, name, check, message):
    failed = failed_checks(kind, name)
    assert check in failed, failed
    assert message in failed[check]


def test_run_contract_lists_every_failure(plugins):
    with pytest.raises(AssertionError, match=r"task=scalar-metric fails 1 contract check\(s\):\n  evaluation: "):
        run_contract("task", "scalar-metric")


def test_checks_have_stable_ids_and_reject_unknown_options(plugins):
    ids = [c.check for c in contract_checks("task", "good")]
    assert ids == ["registration", "config", "imports", "class", "training_step", "evaluation", "samples", "state"]
    with pytest.raises(TypeError, match="unknown task check option"):
        contract_checks("task", "good", cropp=3)[4].run()
