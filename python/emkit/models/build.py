"""Construct a registered generator from (name, config) and describe it as JSON-able spec.

The spec ``{"name": ..., "config": {...}, "emkit_version": ...}`` is what a run saves
as ``generator.json`` next to ``generator.safetensors`` so fine-tuning can rebuild the
exact architecture.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from emkit import registry
from emkit.config.coerce import build_dataclass, to_dict


def build_generator(name: str, config: Any = None) -> Any:
    """Instantiate generator plugin ``name`` with ``config`` (dataclass, dict or None)."""
    cls = registry.load("generator", name)
    if config is None:
        config = cls.Config()
    elif isinstance(config, dict):
        config = build_dataclass(cls.Config, config, "generator", owner=f"generator {name!r}")
    elif not dataclasses.is_dataclass(config):
        raise TypeError(f"config must be a {cls.Config.__name__}, a dict or None")
    return cls(config)


def generator_spec(name: str, generator: Any) -> dict[str, Any]:
    """JSON-able description from which ``generator_from_spec`` rebuilds ``generator``."""
    from emkit import __version__

    return {"name": name, "config": to_dict(generator.config), "emkit_version": __version__}


def generator_from_spec(spec: dict[str, Any]) -> Any:
    """Rebuild a generator (random weights) from ``generator_spec`` output."""
    return build_generator(spec["name"], dict(spec.get("config") or {}))
