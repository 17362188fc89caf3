"""Construct generator plugins from (name, config), and describe a generator as a spec.

``build_generator`` is the one way a generator plugin is instantiated -- by runs,
evaluation, prediction and the contract kit -- so each sees its ``Config`` validated
exactly like command-line values. (Datasets: ``emkit.data.build``.)

The spec ``{"name": ..., "config": {...}, "emkit_version": ...}`` is what a run saves
as ``generator.json`` next to ``generator.safetensors`` so fine-tuning can rebuild the
exact architecture.
"""

from __future__ import annotations

from typing import Any

from emkit import registry
from emkit.config.coerce import to_dict
from emkit.config.plugin_config import plugin_config
from emkit.interfaces import Generator


def build_generator(name: str, config: Any = None) -> Generator:
    """Instantiate generator plugin ``name`` with ``config`` (dataclass, mapping or None)."""
    cls = registry.load("generator", name)
    return cls(plugin_config("generator", name, cls, config))


def generator_spec(name: str, generator: Any) -> dict[str, Any]:
    """JSON-able description from which ``generator_from_spec`` rebuilds ``generator``."""
    from emkit import __version__

    return {"name": name, "config": to_dict(generator.config), "emkit_version": __version__}


def generator_from_spec(spec: dict[str, Any]) -> Generator:
    """Rebuild a generator (random weights) from ``generator_spec`` output."""
    return build_generator(spec["name"], dict(spec.get("config") or {}))
