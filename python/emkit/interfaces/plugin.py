"""What every plugin class has in common: a typed ``Config`` dataclass and an API version."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

#: Version of the plugin contract. The registry refuses plugins built for another one.
API_VERSION = 1

#: Field names a plugin ``Config`` may not use: ``name`` selects the plugin itself
#: (``generator=hrnet`` is shorthand for ``generator.name=hrnet``).
RESERVED_CONFIG_FIELDS = frozenset({"name"})


@dataclasses.dataclass
class EmptyConfig:
    """Config of a plugin without options."""


class PluginBase:
    """Mixin that gives a plugin class its ``Config`` and ``api_version``.

    Subclasses set ``Config`` to a dataclass whose fields all have defaults and
    type annotations; the config system validates command-line values against them.
    """

    api_version: ClassVar[int] = API_VERSION
    Config: ClassVar[type] = EmptyConfig
