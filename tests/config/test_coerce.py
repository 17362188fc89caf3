"""Type validation of config values against dataclass annotations."""

from __future__ import annotations

import dataclasses
from typing import Literal, Optional

import pytest

from emkit.config.coerce import build_dataclass, coerce, to_dict
from emkit.errors import ConfigError


@dataclasses.dataclass
class Inner:
    k: int = 1


@dataclasses.dataclass
class Cfg:
    n: int = 1
    x: float = 0.5
    flag: bool = False
    mode: Literal["a", "b"] = "a"
    maybe: Optional[int] = None
    sizes: list[int] = dataclasses.field(default_factory=list)
    pair: tuple[float, float] = (0.0, 1.0)
    inner: Inner = dataclasses.field(default_factory=Inner)


def test_valid_values_are_converted():
    cfg = build_dataclass(Cfg, {"n": 3, "x": 2, "flag": True, "mode": "b", "maybe": 4,
                                "sizes": 7, "pair": [1, 2], "inner": {"k": 5}}, "s")
    assert cfg == Cfg(3, 2.0, True, "b", 4, [7], (1.0, 2.0), Inner(5))
    assert to_dict(cfg)["pair"] == [1.0, 2.0]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("n", "notanint", "expected int, got 'notanint'"),
        ("n", True, "expected int"),
        ("n", 1.5, "expected int"),
        ("x", "fast", "expected float"),
        ("flag", "yes please", "expected bool"),
        ("mode", "c", "expected one of 'a', 'b'"),
        ("maybe", "x", "expected int or null"),
        ("sizes", ["a"], "s.sizes[0]"),
        ("inner", 3, "mapping of Inner fields"),
    ],
)
def test_wrong_types_name_key_and_expectation(key, value, expected):
    with pytest.raises(ConfigError) as err:
        build_dataclass(Cfg, {key: value}, "s")
    assert expected in str(err.value)
    assert f"'s.{key}" in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_key_suggests():
    with pytest.raises(ConfigError, match=r"Unknown config key 's.nn'.*Did you mean 's.n'"):
        build_dataclass(Cfg, {"nn": 1}, "s")


def test_post_init_errors_become_config_errors():
    @dataclasses.dataclass
    class Checked:
        blocks: int = 2

        def __post_init__(self):
            if self.blocks not in (2, 3, 4):
                raise ValueError(f"blocks must be 2, 3 or 4, got {self.blocks}")

    with pytest.raises(ConfigError, match="blocks must be 2, 3 or 4"):
        build_dataclass(Checked, {"blocks": 5}, "generator")


def test_str_accepts_numbers():
    assert coerce(3, str, "k") == "3"
