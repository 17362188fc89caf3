"""Exception types whose messages are shown to users as one clear line.

The CLI prints ``EmkitError`` messages without a traceback, so every message must name
the offending file, key or plugin and say what was expected.
"""

from __future__ import annotations


class EmkitError(Exception):
    """Base class of all user-facing emkit errors."""


class ConfigError(EmkitError, ValueError):
    """A configuration key or value is unknown or has the wrong type."""


class PluginError(EmkitError, LookupError):
    """A plugin is unknown, ambiguous or failed to load."""


class DataError(EmkitError, ValueError):
    """An input file or dataset is missing, corrupt or of an unexpected shape or type."""


class BackendError(EmkitError, RuntimeError):
    """The native extension is missing or was built without a requested backend."""


class StorageError(EmkitError, OSError):
    """A file or folder could not be written or read (disk full, read-only, permissions)."""
