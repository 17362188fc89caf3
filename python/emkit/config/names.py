"""The rule for run names: one folder name inside ``runs_dir``, never a path."""

from __future__ import annotations

import os

from emkit.errors import ConfigError

MAX_NAME = 200


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a run folder name, or None when it can."""
    if not name or not name.strip():
        return "is empty"
    if os.path.isabs(name) or name.startswith("~"):
        return "is an absolute path"
    if "/" in name or "\\" in name or (os.altsep and os.altsep in name):
        return "contains a path separator"
    if ".." in name or name == ".":
        return "is '.' or contains '..'"
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        return "contains control characters"
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME:
        return f"is longer than {MAX_NAME} bytes"
    return None


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid run folder name, else raise one-line ``ConfigError``."""
    problem = name_problem(name)
    if problem:
        raise ConfigError(f"Invalid value for 'name': {name!r} {problem}; a run name is one folder "
                          "name inside runs_dir (set runs_dir= to choose where runs go)")
    return name
