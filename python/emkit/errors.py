"""Exception types whose messages are shown to users as one clear line.

The CLI prints ``EmkitError`` messages without a traceback, so every message must name
the offending file, key or plugin and say what was expected. ``print_error`` and
``print_warning`` write such lines as plain text: no markup is interpreted, so a hint
like ``pip install 'emkit[export]'`` reaches the user intact.
"""

from __future__ import annotations

import os
import sys
from typing import IO


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


class DistributedError(EmkitError, RuntimeError):
    """The processes of a multi-process run cannot meet or lost one another (rendezvous
    unreachable, a rank died during a collective, ranks disagree on the config)."""


def print_error(message: object, stream: IO[str] | None = None) -> None:
    """Print ``error: <message>`` as plain text (no markup: ``emkit[export]`` stays intact).

    The prefix is red when the stream is a terminal and ``NO_COLOR`` is unset.
    """
    stream = stream or sys.stderr
    prefix = "error:"
    if getattr(stream, "isatty", lambda: False)() and not os.environ.get("NO_COLOR"):
        prefix = "\x1b[1;31merror:\x1b[0m"
    text = " ".join(str(message).split("\n"))
    stream.write(f"{prefix} {text}\n")
    stream.flush()


def print_warning(message: object, stream: IO[str] | None = None) -> None:
    """Print ``warning: <message>`` as one plain-text line on stderr."""
    stream = stream or sys.stderr
    stream.write("warning: " + " ".join(str(message).split("\n")) + "\n")
    stream.flush()
