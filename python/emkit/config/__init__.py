"""Layered, validated configuration: defaults < plugin defaults < preset < YAML < CLI."""

from emkit.config.coerce import build_dataclass, to_dict
from emkit.config.overrides import parse_overrides
from emkit.config.layering import ResolvedConfig, resolve
from emkit.config.schema import PLUGIN_SECTIONS, RunConfig, TrainConfig

__all__ = [
    "PLUGIN_SECTIONS",
    "ResolvedConfig",
    "RunConfig",
    "TrainConfig",
    "build_dataclass",
    "parse_overrides",
    "resolve",
    "to_dict",
]
