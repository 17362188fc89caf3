"""Layering: defaults < plugin defaults < preset < YAML files < command line."""

from __future__ import annotations

import pytest
import yaml

from emkit.config import resolve
from emkit.errors import ConfigError, PluginError


@pytest.fixture
def tiny(fake_plugins):
    fake_plugins(("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "tinydist"))


def test_plugin_defaults_are_filled(tiny):
    cfg = resolve(["generator=tiny"])
    assert cfg.tree["generator"] == {"name": "tiny", "in_channels": 1, "out_channels": 1, "width": 4}
    assert cfg.plugin_config("generator").width == 4


def test_layer_order(tiny, tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text("generator: {name: tiny, width: 8}\ntrain: {epochs: 7, batch_size: 3}\nseed: 1\n")
    b = tmp_path / "b.yaml"
    b.write_text("train: {epochs: 9}\n")
    cfg = resolve(["generator.width=16", "seed=2"], [a, b])
    assert cfg.plugin_config("generator").width == 16  # CLI beats YAML
    assert cfg.train.epochs == 9  # later YAML beats earlier
    assert cfg.train.batch_size == 3  # earlier YAML beats defaults
    assert cfg.run.seed == 2


def test_train_aliases_at_top_level(tiny):
    assert resolve(["epochs=5"]).train.epochs == 5


def test_preset_sits_between_plugin_defaults_and_user(tiny, monkeypatch):
    import emkit.config.layering as r

    monkeypatch.setitem(r.PACKAGE_PRESETS, "big", {"epochs": 60, "train": {"batch_size": 128}})
    cfg = resolve(["preset=big", "train.batch_size=4"])
    assert (cfg.train.epochs, cfg.train.batch_size) == (60, 4)
    with pytest.raises(ConfigError, match="Unknown preset 'huge'. Available: big"):
        resolve(["preset=huge"])


def test_a_preset_may_choose_the_generator_unless_the_user_chose_another(monkeypatch):
    import emkit.config.layering as r

    monkeypatch.setitem(r.PACKAGE_PRESETS, "recipe", {"generator": {"name": "unet", "blocks": 3, "width": 16},
                                                      "init": "self", "train": {"epochs": 7}})
    base = ["task=segmentation", "data=synthetic-hrtem", "preset=recipe"]
    cfg = resolve(base)
    assert cfg.plugin_name("generator") == "unet" and (cfg.tree["generator"]["blocks"], cfg.tree["generator"]["width"]) == (3, 16)
    assert cfg.run.init == "self" and cfg.train.epochs == 7 and cfg.warnings == []
    assert resolve([*base, "generator.width=8"]).tree["generator"]["width"] == 8  # the user's keys still win
    other = resolve([*base, "generator=hrnet"])
    assert other.plugin_name("generator") == "hrnet" and other.run.init == "self" and other.train.epochs == 7
    assert len(other.warnings) == 1 and "generator=unet" in other.warnings[0] and "generator=hrnet" in other.warnings[0]


def test_wrong_type_fails_before_work_with_one_line(tiny):
    with pytest.raises(ConfigError) as err:
        resolve(["generator=tiny", "generator.width=notanint"])
    assert str(err.value) == "Invalid value for 'generator.width': expected int, got 'notanint'"


def test_unknown_keys(tiny):
    with pytest.raises(ConfigError, match=r"Unknown config key 'generator.widht' for generator 'tiny'. Did you mean 'generator.width'"):
        resolve(["generator=tiny", "generator.widht=3"])
    with pytest.raises(ConfigError, match=r"Unknown config key 'trian'. Did you mean 'train'"):
        resolve(["trian.epochs=3"])
    with pytest.raises(ConfigError, match=r"Unknown config key 'train.epoch'"):
        resolve(["train.epoch=3"])


def test_section_values_without_a_plugin(fake_plugins):
    with pytest.raises(ConfigError, match="'generator.blocks' is set but no generator is chosen"):
        resolve(["generator.blocks=4"])


def test_unknown_plugin_is_a_plugin_error(tiny):
    with pytest.raises(PluginError, match="Did you mean 'tiny'"):
        resolve(["generator=tinny"])


def test_pretext_and_task_are_exclusive(tiny):
    with pytest.raises(ConfigError, match="either a pretext"):
        resolve(["pretext=a", "task=b"])


def test_saved_yaml_round_trips(tiny, tmp_path):
    cfg = resolve(["generator=tiny", "generator.width=12", "eval_epochs=[5,30]", "train.epochs=30"])
    saved = tmp_path / "config.yaml"
    saved.write_text(cfg.to_yaml())
    again = resolve([], [saved])
    assert again.tree == cfg.tree
    assert yaml.safe_load(saved.read_text())["eval_epochs"] == [5, 30]
