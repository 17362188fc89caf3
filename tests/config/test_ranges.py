"""Declared ranges: every number of every config has one, and malformed overrides fail cleanly.

The fuzz list drives malformed overrides through ``resolve`` with the real built-in
plugins; each must give one ``EmkitError`` line naming the key, and through the CLI exit
code 2 with no run folder created. Ranges are declared one way in the repository
(``ranged``); the metadata it writes is what emkit reads, so a plugin that writes that
metadata by hand is checked the same.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from emkit import registry
from emkit.config import resolve
from emkit.config.coerce import build_dataclass, numeric_fields_without_range
from emkit.config.ranges import Range, check_number, ranged
from emkit.config.schema import RunConfig, TrainConfig
from emkit.errors import ConfigError, EmkitError
from run_support import run_cli

PRETEXT = ["pretext=pix2pix", "generator=unet", "data=synthetic-cem"]
TASK = ["task=segmentation", "generator=unet", "data=synthetic-hrtem"]

#: (base, override, key the message must name)
MALFORMED: list[tuple[list[str], str, str]] = [
    (PRETEXT, "train.batch_size=0", "train.batch_size"),
    (PRETEXT, "train.batch_size=-4", "train.batch_size"),
    (PRETEXT, "train.batch_size=1e100", "train.batch_size"),
    (PRETEXT, "train.batch_size=2.5", "train.batch_size"),
    (PRETEXT, "train.batch_size=many", "train.batch_size"),
    (PRETEXT, "train.batch_size=[1,2]", "train.batch_size"),
    (PRETEXT, "train.batch_size=" + "9" * 5000, "train.batch_size"),
    (PRETEXT, "train.lr=-1", "train.lr"),
    (PRETEXT, "train.lr=0", "train.lr"),
    (PRETEXT, "train.lr=.nan", "train.lr"),
    (PRETEXT, "train.lr=.inf", "train.lr"),
    (PRETEXT, "train.lr=1e400", "train.lr"),
    (PRETEXT, "train.lr=" + "1" * 400, "train.lr"),
    (PRETEXT, "train.lr=fast", "train.lr"),
    (PRETEXT, "train.num_workers=-1", "train.num_workers"),
    (PRETEXT, "train.log_every=0", "train.log_every"),
    (PRETEXT, "train.log_every=-10", "train.log_every"),
    (PRETEXT, "train.epochs=0", "train.epochs"),
    (PRETEXT, "train.epochs=-1", "train.epochs"),
    (PRETEXT, "epochs=-3", "train.epochs"),
    (PRETEXT, "train.steps_per_epoch=0", "train.steps_per_epoch"),
    (PRETEXT, "train.val_batches=-1", "train.val_batches"),
    (PRETEXT, "train.val_batches=0", "train.val_batches"),
    (PRETEXT, "train.grad_clip=-1", "train.grad_clip"),
    (PRETEXT, "train.grad_clip=0", "train.grad_clip"),
    (PRETEXT, "train.checkpoint_every=0", "train.checkpoint_every"),
    (PRETEXT, "train.checkpoint_every=-5", "train.checkpoint_every"),
    (PRETEXT, "train.body_lr_mult=-1", "train.body_lr_mult"),
    (PRETEXT, "body_lr_mult=-1", "train.body_lr_mult"),
    (PRETEXT, "train.freeze=decoder", "train.freeze"),
    (PRETEXT, "train.schedule=exp", "train.schedule"),
    (PRETEXT, "train.precision=fp8", "train.precision"),
    (PRETEXT, "train.compile=maybe", "train.compile"),
    (PRETEXT, "seed=" + "1" * 26, "seed"),
    (PRETEXT, "seed=-1", "seed"),
    (PRETEXT, "seed=1.5", "seed"),
    (PRETEXT, "devices=0", "devices"),
    (PRETEXT, "devices=-2", "devices"),
    (PRETEXT, "eval_epochs=[0]", "eval_epochs[0]"),
    (PRETEXT, "eval_epochs=[1,-5]", "eval_epochs[1]"),
    (PRETEXT, "launcher=slurm", "launcher"),
    (PRETEXT, "name=../../x", "name"),
    (PRETEXT, "name=/tmp/abs", "name"),
    (PRETEXT, "name=a/b", "name"),
    (PRETEXT, "name=..", "name"),
    (PRETEXT, "pretext.lambda_l1=-100", "pretext.lambda_l1"),
    (PRETEXT, "pretext.lr=-0.1", "pretext.lr"),
    (PRETEXT, "pretext.beta1=1", "pretext.beta1"),
    (PRETEXT, "pretext.beta2=-0.5", "pretext.beta2"),
    (PRETEXT, "pretext.crop=0", "pretext.crop"),
    (PRETEXT, "pretext.crop=100000", "pretext.crop"),
    (PRETEXT, "pretext.d_layers=0", "pretext.d_layers"),
    (PRETEXT, "pretext.d_width=-8", "pretext.d_width"),
    (PRETEXT, "pretext.degrade.rotation=720", "pretext.degrade.rotation"),
    (PRETEXT, "pretext.degrade.flip_prob=2", "pretext.degrade.flip_prob"),
    (PRETEXT, "pretext.degrade.noise=[-1,0.1]", "pretext.degrade.noise[0]"),
    (PRETEXT, "pretext.degrade.scale=[0,1]", "pretext.degrade.scale[0]"),
    (PRETEXT, "generator.width=4096", "generator.width"),
    (PRETEXT, "generator.width=0", "generator.width"),
    (PRETEXT, "generator.blocks=100", "generator.blocks"),
    (PRETEXT, "generator.in_channels=0", "generator.in_channels"),
    (PRETEXT, "generator.pools=[2,0]", "generator.pools[1]"),
    (PRETEXT, "data.size=4", "data.size"),
    (PRETEXT, "data.length=0", "data.length"),
    (PRETEXT, "data.length=1e12", "data.length"),
    (PRETEXT, "data.val_length=-1", "data.val_length"),
    (PRETEXT, "data.seed=-7", "data.seed"),
    (TASK, "task.crop=-1", "task.crop"),
    (TASK, "task.classes=1", "task.classes"),
    (TASK, "task.threshold=1.5", "task.threshold"),
    (TASK, "task.pos_weight=0", "task.pos_weight"),
    (TASK, "task.lr=.nan", "task.lr"),
    (TASK, "task.augment.rotation=-5", "task.augment.rotation"),
    (TASK, "task.augment.noise_prob=1.1", "task.augment.noise_prob"),
    (TASK, "data.size=0", "data.size"),
    (TASK, "body_lr_mult=-0.5", "train.body_lr_mult"),
    (TASK, "freeze=everything", "train.freeze"),
    (["task=denoise", "generator=unet", "data=synthetic-stem"], "task.l1_weight=-1", "task.l1_weight"),
    (["task=denoise", "generator=unet", "data=synthetic-stem"], "task.channels=0", "task.channels"),
    (["pretext=pix2pix", "generator=hrnet", "data=synthetic-cem"], "generator.widths=[18,0]", "generator.widths[1]"),
    (["pretext=pix2pix", "generator=hrnet", "data=synthetic-cem"], "generator.stem_width=100000",
     "generator.stem_width"),
    (["pretext=pix2pix", "generator=unet", "data=folder"], "data.val_fraction=1", "data.val_fraction"),
    (["pretext=pix2pix", "generator=unet", "data=folder"], "data.test_fraction=-0.1", "data.test_fraction"),
    (["pretext=pix2pix", "generator=unet", "data=folder"], "data.percentile_high=101", "data.percentile_high"),
    (["pretext=pix2pix", "generator=unet", "data=folder"], "data.std=0", "data.std"),
    (["pretext=pix2pix", "generator=unet", "data=folder"], "data.limit=0", "data.limit"),
]


@pytest.mark.parametrize(("base", "override", "key"), MALFORMED, ids=[m[1][:40] for m in MALFORMED])
def test_malformed_override_is_one_clean_line(base, override, key):
    with pytest.raises(EmkitError) as err:
        resolve([*base, override])
    text = str(err.value)
    assert "\n" not in text and len(text) < 400, text
    assert repr(key) in text, text


def test_every_numeric_field_declares_a_range():
    """Run, train and every installed plugin's config: no number without a range."""
    missing = {"run": numeric_fields_without_range(RunConfig), "train": numeric_fields_without_range(TrainConfig)}
    for kind in registry.KINDS:
        for name in registry.available(kind):
            missing[f"{kind} {name}"] = numeric_fields_without_range(registry.load(kind, name).Config)
    assert {k: v for k, v in missing.items() if v} == {}


def test_range_message_names_key_value_and_range():
    with pytest.raises(ConfigError) as err:
        resolve([*PRETEXT, "train.batch_size=0"])
    assert str(err.value) == "Invalid value for 'train.batch_size': 0 is outside the valid range [1, 65536]"
    with pytest.raises(ConfigError, match=r"'train.lr': -1.0 is outside the valid range \(0, 10\]"):
        resolve([*PRETEXT, "train.lr=-1"])
    with pytest.raises(ConfigError) as err:
        resolve([*PRETEXT, "seed=" + "1" * 26])
    assert str(err.value) == ("Invalid value for 'seed': 11111111111111111111111111 does not fit in 64 bits; "
                              "valid range [0, 9223372036854775807]")
    with pytest.raises(ConfigError, match=r"'train.batch_size': 100000000000… \(101 digits\) does not fit"):
        resolve([*PRETEXT, "train.batch_size=1e100"])


def test_valid_edges_are_accepted():
    cfg = resolve([*PRETEXT, "train.batch_size=1", "train.lr=10", "train.num_workers=0", "seed=0",
                   "pretext.lambda_l1=0", "train.body_lr_mult=0"])
    assert (cfg.train.batch_size, cfg.train.lr, cfg.run.seed) == (1, 10.0, 0)


def test_ranges_are_inherited_by_subclasses_that_change_a_default():
    @dataclasses.dataclass
    class Base:
        n: int = ranged(3, 1, 10)

    @dataclasses.dataclass
    class Sub(Base):
        n: int = 5

    assert numeric_fields_without_range(Sub) == []
    with pytest.raises(ConfigError, match=r"'s.n': 11 is outside the valid range \[1, 10\]"):
        build_dataclass(Sub, {"n": 11}, "s")


def test_hand_written_range_metadata_is_read_like_ranged():
    """Third-party plugins may declare ``metadata={"range": ...}`` without importing emkit."""

    @dataclasses.dataclass
    class ThirdParty:
        crop: int = dataclasses.field(default=64, metadata={"range": (8, 512)})
        lr: float = dataclasses.field(default=1e-3, metadata={"range": (0, None), "exclusive_min": True})

    assert numeric_fields_without_range(ThirdParty) == []
    with pytest.raises(ConfigError, match=r"'t.crop': 4 is outside the valid range \[8, 512\]"):
        build_dataclass(ThirdParty, {"crop": 4}, "t")
    with pytest.raises(ConfigError, match=r"'t.lr': 0.0 is outside the valid range \(0, inf\)"):
        build_dataclass(ThirdParty, {"lr": 0.0}, "t")
    assert build_dataclass(ThirdParty, {"lr": 1e30}, "t").lr == 1e30


def test_the_repository_declares_ranges_one_way():
    """``ranged(...)`` everywhere in emkit and its plugins; no large number standing in for None."""
    import re

    root = Path(__file__).resolve().parents[2]
    sources = [*(root / "python").rglob("*.py"), *(root / "plugins").rglob("*.py")]
    raw, huge = [], []
    for path in sources:
        if path.name == "ranges.py" or ".venv" in path.parts or "build" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        raw += [f"{path.relative_to(root)}" for _ in re.finditer(r"metadata=\{\s*[\"']range[\"']", text)]
        huge += [f"{path.relative_to(root)}: {m.group(0)}"
                 for m in re.finditer(r"ranged\([^)]*?(?:1e1[2-9]|10\*\*1[2-9]|1_?000_?000_?000_?000)", text)]
    assert raw == [] and huge == []


def test_range_forms():
    assert str(Range(0, 10, exclusive_min=True)) == "(0, 10]"
    assert str(Range(0, 1, exclusive_max=True)) == "[0, 1)"
    assert str(Range(1, None)) == "[1, inf)"
    assert not Range(0, 1).contains(float("nan"))
    check_number("k", None, Range(1, 2))  # Optional fields may be null
    with pytest.raises(ConfigError, match="not a finite number"):
        check_number("k", float("inf"), None)  # finite even without a declared range


def test_cli_refuses_before_any_folder_exists(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for override in ("train.batch_size=0", "train.log_every=0", "train.epochs=0", "name=../../x"):
        code, _, err = run_cli(["run", *PRETEXT, f"runs_dir={tmp_path / 'runs'}", override], capsys)
        assert code == 2, err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "runs").exists()
    assert not Path(tmp_path.parent / "x").exists()
