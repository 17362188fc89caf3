"""A plugin's ``Config`` from what a caller has: nothing, a mapping of values, or an instance.

The one place plugin configs are constructed outside a resolved run (building a
generator or dataset by name, the contract kit): mappings are validated exactly like
command-line values (``build_dataclass``), so ``{"crop": 32}`` gives what ``task.crop=32``
would give, with the same one-line errors naming the key.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

from emkit.config.coerce import build_dataclass

#: Registry kind -> the word used in messages.
NOUNS = {"generator": "generator", "data": "dataset", "pretext": "pretext", "task": "task"}


def plugin_config(kind: str, name: str, cls: type, config: Any = None) -> Any:
    """``cls.Config`` from ``None`` (defaults), a mapping of values (validated) or an instance (copied)."""
    if config is None:
        return cls.Config()
    if isinstance(config, Mapping):
        return build_dataclass(cls.Config, dict(config), kind, owner=f"{NOUNS.get(kind, kind)} {name!r}")
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"config must be a {cls.Config.__name__}, a mapping or None, got {type(config).__name__}")
    return copy.deepcopy(config)
