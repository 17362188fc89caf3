"""Construct a registered dataset plugin from (name, config, split): the one way to do it.

Runs, evaluation, ``emkit data show``, prediction samples, the ``mix`` dataset and the
contract kit all build datasets here, so each sees its ``Config`` validated exactly like
command-line values and ``select_target`` applied as a run applies it.
"""

from __future__ import annotations

from typing import Any

from emkit import registry
from emkit.config.plugin_config import plugin_config
from emkit.interfaces import DataSource


def build_dataset(name: str, config: Any = None, split: str = "train", target: str | None = None) -> DataSource:
    """Dataset plugin ``name`` for ``split`` with ``config`` (dataclass, mapping or None).

    ``target`` is passed to ``select_target`` (a task's ``dataset_target``), as a run does.
    """
    cls = registry.load("data", name)
    dataset = cls(plugin_config("data", name, cls, config), split)
    if target is not None:
        dataset.select_target(target)
    return dataset
