"""Construct registered plugins from (name, config), and describe a generator as a spec.

``build_generator`` and ``build_dataset`` are the one way a generator / dataset plugin is
instantiated -- by runs, evaluation, ``emkit data preview``, prediction and the contract
kit -- so each sees its ``Config`` validated exactly like command-line values.

The spec ``{"name": ..., "config": {...}, "emkit_version": ...}`` is what a run saves
as ``generator.json`` next to ``generator.safetensors`` so fine-tuning can rebuild the
exact architecture.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from emkit import registry
from emkit.config.coerce import build_dataclass, to_dict
from emkit.interfaces import DataSource, Generator

#: Registry kind -> the word used in messages.
_NOUN = {"generator": "generator", "data": "dataset"}


def plugin_config(kind: str, name: str, cls: type, config: Any) -> Any:
    """``cls.Config`` from ``None`` (defaults), a dict of values (validated) or an instance."""
    if config is None:
        return cls.Config()
    if isinstance(config, dict):
        return build_dataclass(cls.Config, config, kind, owner=f"{_NOUN.get(kind, kind)} {name!r}")
    if not dataclasses.is_dataclass(config):
        raise TypeError(f"config must be a {cls.Config.__name__}, a dict or None")
    return config


def build_generator(name: str, config: Any = None) -> Generator:
    """Instantiate generator plugin ``name`` with ``config`` (dataclass, dict or None)."""
    cls = registry.load("generator", name)
    return cls(plugin_config("generator", name, cls, config))


def build_dataset(name: str, config: Any = None, split: str = "train", target: str | None = None) -> DataSource:
    """Dataset plugin ``name`` for ``split`` with ``config`` (dataclass, dict or None).

    ``target`` is passed to ``select_target`` (a task's ``dataset_target``), as a run does.
    """
    cls = registry.load("data", name)
    dataset = cls(plugin_config("data", name, cls, config), split)
    if target is not None:
        dataset.select_target(target)
    return dataset


def generator_spec(name: str, generator: Any) -> dict[str, Any]:
    """JSON-able description from which ``generator_from_spec`` rebuilds ``generator``."""
    from emkit import __version__

    return {"name": name, "config": to_dict(generator.config), "emkit_version": __version__}


def generator_from_spec(spec: dict[str, Any]) -> Generator:
    """Rebuild a generator (random weights) from ``generator_spec`` output."""
    return build_generator(spec["name"], dict(spec.get("config") or {}))
