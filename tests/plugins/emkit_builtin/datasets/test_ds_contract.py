"""Every built-in dataset is registered, loads, and has a valid, round-tripping Config."""

from __future__ import annotations

import dataclasses

import pytest

from emkit import registry
from emkit.interfaces import DataSource
from emkit.testing import validate_plugin

NAMES = ["folder", "temimagenet", "au-hdf5", "paired-folder", "mask-folder", "packed",
         "synthetic-stem", "synthetic-hrtem", "synthetic-cem"]


def test_all_registered():
    assert set(NAMES) <= set(registry.available("data"))


@pytest.mark.parametrize("name", NAMES)
def test_contract(name):
    cls = registry.load("data", name)
    assert issubclass(cls, DataSource)
    assert validate_plugin("data", name) == []
    fields = {f.name for f in dataclasses.fields(cls.Config)}
    assert "name" not in fields
    assert set(cls.provides) <= {"target", "mask"}
