"""The plugin contracts: small ABCs every generator, pretext, task and dataset implements.

Each plugin class carries a typed ``Config`` dataclass (its fields are the CLI keys,
e.g. ``generator.blocks``) and an ``api_version`` the registry checks on load. What the
contracts are written in terms of -- ``StepContext``, the ``Objective`` protocol, the
image-space conversion and padding -- lives one layer below, in ``emkit.plugin_api``.
"""

from emkit.interfaces.data_source import DataSource, Sample
from emkit.interfaces.generator import Generator
from emkit.interfaces.plugin import API_VERSION, EmptyConfig, PluginBase
from emkit.interfaces.pretext import Pretext
from emkit.interfaces.task import Task

__all__ = [
    "API_VERSION",
    "DataSource",
    "EmptyConfig",
    "Generator",
    "PluginBase",
    "Pretext",
    "Sample",
    "Task",
]
