"""Parsing key=value overrides and YAML files."""

from __future__ import annotations

import pytest

from emkit.config.overrides import deep_merge, load_yaml, parse_overrides, parse_value
from emkit.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "value"),
    [("4", 4), ("2e-4", 2e-4), ("1.5", 1.5), ("true", True), ("null", None), ("[5,30,60]", [5, 30, 60]),
     ("hrnet", "hrnet"), ("runs/a b", "runs/a b"), ("a:b", "a:b"), ("{x: 1}", {"x": 1})],
)
def test_parse_value(text, value):
    assert parse_value(text) == value


def test_group_shorthand_and_dotted_keys():
    tree = parse_overrides(["generator=hrnet", "generator.width=32", "train.epochs=5", "seed=3"])
    assert tree == {"generator": {"name": "hrnet", "width": 32}, "train": {"epochs": 5}, "seed": 3}


@pytest.mark.parametrize("bad", ["generator", "=3", "a..b=1", "generator=[1]"])
def test_malformed_overrides(bad):
    with pytest.raises(ConfigError):
        parse_overrides([bad])


def test_choosing_another_plugin_drops_old_options():
    merged = deep_merge({"generator": {"name": "unet", "blocks": 4}}, {"generator": {"name": "hrnet"}})
    assert merged == {"generator": {"name": "hrnet"}}
    merged = deep_merge({"generator": {"name": "unet", "blocks": 4}}, {"generator": {"width": 8}})
    assert merged == {"generator": {"name": "unet", "blocks": 4, "width": 8}}


def test_yaml_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_yaml(bad)
    with pytest.raises(ConfigError, match="missing.yaml"):
        load_yaml(tmp_path / "missing.yaml")
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_yaml(listy)


def test_yaml_group_shorthand(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("generator: hrnet\ntrain:\n  epochs: 3\n")
    assert load_yaml(f) == {"generator": {"name": "hrnet"}, "train": {"epochs": 3}}
