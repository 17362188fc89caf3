"""Config is the record: the learning rate and adjusted settings are settled during resolution."""

from __future__ import annotations

import pytest
import yaml

from emkit.config import resolve
from emkit.config.schema import DEFAULT_LR
from emkit.config.settle import settled_lr
from emkit.engine.launch import start as launch
from emkit.errors import ConfigError

PRETEXT = ["pretext=pix2pix", "generator=unet", "data=synthetic-cem"]
TASK = ["task=segmentation", "generator=unet", "data=synthetic-hrtem"]


def test_train_lr_is_recorded_in_the_pretext_section():
    cfg = resolve([*PRETEXT, "train.lr=1e-3"])
    assert cfg.tree["train"]["lr"] == 1e-3 and cfg.tree["pretext"]["lr"] == 1e-3
    assert cfg.plugin_config("pretext").lr == 1e-3


def test_plugin_lr_is_recorded_in_train():
    cfg = resolve([*PRETEXT])
    assert cfg.tree["train"]["lr"] == cfg.tree["pretext"]["lr"] == 2e-4
    cfg = resolve([*PRETEXT, "pretext.lr=5e-4"])
    assert cfg.tree["train"]["lr"] == cfg.tree["pretext"]["lr"] == 5e-4


def test_task_lr_is_settled_the_same_way():
    cfg = resolve([*TASK, "lr=3e-3"])
    assert cfg.tree["train"]["lr"] == cfg.tree["task"]["lr"] == 3e-3
    assert settled_lr(None, object()) == DEFAULT_LR
    assert settled_lr(None, cfg.plugin_config("task")) == 3e-3


def test_saved_config_resolves_to_the_same_run(tmp_path):
    cfg = resolve([*PRETEXT, "train.lr=1e-3"])
    saved = tmp_path / "config.yaml"
    saved.write_text(cfg.to_yaml())
    assert resolve([], [saved]).tree == cfg.tree


def test_optimiser_settings_live_under_train():
    cfg = resolve([*TASK, "train.freeze=encoder", "train.body_lr_mult=0.1"])
    assert (cfg.train.freeze, cfg.train.body_lr_mult) == ("encoder", 0.1)
    assert "freeze" not in cfg.tree and cfg.tree["train"]["body_lr_mult"] == 0.1


def test_optimiser_keys_work_at_the_top_level_like_every_train_key(tmp_path):
    """``freeze=`` / ``body_lr_mult=`` are top-level aliases, like ``epochs=`` (config files and a
    resumed run's config.yaml too), without a warning: no train key is deprecated."""
    cfg = resolve([*TASK, "freeze=encoder", "body_lr_mult=0.5"])
    assert (cfg.train.freeze, cfg.train.body_lr_mult) == ("encoder", 0.5)
    assert cfg.warnings == [] and "freeze" not in cfg.tree and cfg.tree["train"]["freeze"] == "encoder"
    old = tmp_path / "old.yaml"
    old.write_text("freeze: encoder\nbody_lr_mult: 0.25\ntrain: {epochs: 3}\n")
    cfg = resolve(TASK, [old])
    assert (cfg.train.freeze, cfg.train.body_lr_mult, cfg.train.epochs) == ("encoder", 0.25, 3)
    # a resumed run's config.yaml is the base layer: it is lifted as well
    cfg = resolve(TASK, base=yaml.safe_load(old.read_text()))
    assert cfg.train.body_lr_mult == 0.25


def test_eval_epochs_beyond_the_run_are_dropped_with_one_warning():
    cfg = resolve([*PRETEXT, "train.epochs=3", "eval_epochs=[1,3,5,30]"])
    assert cfg.run.eval_epochs == [1, 3] and cfg.tree["eval_epochs"] == [1, 3]
    assert len(cfg.warnings) == 1 and "[5, 30]" in cfg.warnings[0] and "train.epochs=3" in cfg.warnings[0]
    assert resolve([*PRETEXT, "train.epochs=30", "eval_epochs=[5,30]"]).warnings == []


def test_config_show_prints_the_warning_and_the_used_values(capsys):
    from run_support import run_cli

    code, out, err = run_cli(["config", "show", *PRETEXT, "train.epochs=2", "eval_epochs=[5]"], capsys)
    assert code == 0
    assert yaml.safe_load(out)["eval_epochs"] == []
    assert err.startswith("warning: eval_epochs [5] lie beyond train.epochs=2")


def test_overrides_are_parsed_once(monkeypatch, tmp_path):
    import emkit.config.layering as layering

    calls = []
    real = layering.parse_overrides
    monkeypatch.setattr(layering, "parse_overrides", lambda items: calls.append(items) or real(items))
    cfg, resume_dir = launch.prepare([*PRETEXT, "train.epochs=1"], [])
    assert len(calls) == 1 and resume_dir is None and cfg.train.epochs == 1


def test_resume_and_init_are_read_from_config_files_too(tmp_path):
    file = tmp_path / "run.yaml"
    file.write_text(f"resume: {tmp_path / 'nowhere'}\n")
    with pytest.raises(Exception, match="nowhere"):
        launch.prepare(PRETEXT, [str(file)])


def test_run_name_rules_are_checked_during_resolution():
    for bad in ("../x", "/abs", "a/b", "..", "", "a\\b"):
        with pytest.raises(ConfigError, match="Invalid value for 'name'"):
            resolve([*PRETEXT, f"name={bad}" if bad else "name=''"])
    assert resolve([*PRETEXT, "name=my-run_1.2"]).run.name == "my-run_1.2"


def test_fine_tuning_settings_with_a_pretext_are_reset_with_a_warning():
    cfg = resolve([*PRETEXT, "train.freeze=encoder", "train.body_lr_mult=0.1"])
    assert (cfg.train.freeze, cfg.train.body_lr_mult) == (None, 1.0)
    assert cfg.tree["train"]["freeze"] is None and cfg.tree["train"]["body_lr_mult"] == 1.0
    assert len(cfg.warnings) == 1 and "train.freeze='encoder' and train.body_lr_mult=0.1" in cfg.warnings[0]
    assert resolve([*TASK, "train.freeze=encoder"]).warnings == []


def test_devices_without_torchrun_train_on_one_and_say_so(monkeypatch):
    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "TORCHELASTIC_RUN_ID"):
        monkeypatch.delenv(var, raising=False)
    cfg, _ = launch.prepare([*PRETEXT, "devices=4"], [])
    assert cfg.run.devices == 1 and cfg.tree["devices"] == 1
    assert any("devices=4 needs launcher=torchrun" in w for w in cfg.warnings)
    cfg, _ = launch.prepare([*PRETEXT, "devices=4", "launcher=torchrun"], [])
    assert cfg.run.devices == 4 and cfg.warnings == []
