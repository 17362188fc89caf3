"""Sweep expansion: comma lists (not inside brackets) form a Cartesian product."""

import pytest

from emkit.engine.launch.sweep import expand, run_name, split_top_level
from emkit.errors import ConfigError


def test_split_respects_brackets():
    assert split_top_level("[5,30,60],[1,2]") == ["[5,30,60]", "[1,2]"]
    assert split_top_level("a") == ["a"]


def test_expand_cartesian_product():
    combos = expand(["init=random,runs/pre", "seed=0,1", "eval_epochs=[5,30]"])
    assert len(combos) == 4
    assert combos[0] == ["init=random", "seed=0", "eval_epochs=[5,30]"]


def test_run_names_are_stable_and_distinct():
    a = run_name(["seed=0", "x=1"], {"seed"})
    b = run_name(["seed=1", "x=1"], {"seed"})
    assert a != b and a == run_name(["seed=0", "x=1"], {"seed"}) and a.startswith("seed=0-")


def test_bad_item():
    with pytest.raises(ConfigError):
        expand(["novalue"])
