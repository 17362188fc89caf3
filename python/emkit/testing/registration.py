"""Checks every plugin kind shares: registry metadata, config files, imports.

``check_registration`` answers "will ``emkit plugins list`` and ``kind=name`` on the
command line work for users of this distribution"; ``check_config_file`` "does the
resolved config survive being saved as ``config.yaml`` and read back";
``check_public_imports`` "does the plugin only use emkit's public API" (private,
underscore-prefixed modules and names may change in any release).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
import sys
from pathlib import Path
from typing import Any

from emkit import registry

#: What a plugin name may look like: it is typed on the command line (``task=<name>``).
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*$")


def check_registration(kind: str, name: str) -> None:
    """The entry point is unique, names its distribution and version, and loads.

    Loading runs the registry's contract check (subclass of the interface, matching
    ``api_version``, a dataclass ``Config`` whose fields all have defaults and avoid
    reserved names).
    """
    spec = registry.get_spec(kind, name)  # raises on unknown or duplicate names
    assert NAME_PATTERN.match(name), (
        f"plugin name {name!r} must be lowercase letters, digits, '-' or '_' (it is a command-line value)"
    )
    assert spec.distribution != "unknown", (
        f"entry point {name} = {spec.value} has no distribution metadata: install the plugin with pip"
    )
    assert spec.version not in ("", "?"), f"distribution {spec.distribution!r} has no version"
    cls = registry.load(kind, name)
    assert ":" in spec.value, f"entry point value {spec.value!r} should be 'module:Class'"
    _check_field_types(cls.Config, kind)


def _check_field_types(config_cls: type, prefix: str) -> None:
    """Every field's annotation resolves (the CLI validates values against it)."""
    from emkit.config.coerce import field_types

    try:
        types = field_types(config_cls)
    except Exception as exc:  # noqa: BLE001 - unresolvable annotations break the CLI
        raise AssertionError(
            f"the annotations of {config_cls.__name__} cannot be resolved ({type(exc).__name__}: {exc}); "
            "import every type the fields use at module level"
        ) from exc
    for field_name, tp in types.items():
        if dataclasses.is_dataclass(tp):
            _check_field_types(tp, f"{prefix}.{field_name}")


def check_config_file(kind: str, name: str, config: Any = None) -> None:
    """The config written to ``config.yaml`` reads back into an equal ``Config``."""
    import yaml

    from emkit.config.coerce import build_dataclass, to_dict
    from emkit.testing.harness import build_config

    cfg = build_config(kind, name, config)
    cls = registry.load(kind, name)
    try:
        text = yaml.safe_dump(to_dict(cfg), sort_keys=False)
    except yaml.YAMLError as exc:
        raise AssertionError(f"Config values cannot be written to config.yaml: {exc}") from exc
    rebuilt = build_dataclass(cls.Config, yaml.safe_load(text) or {}, kind)
    assert rebuilt == cfg, "Config does not survive a config.yaml round trip (write, read back, validate)"


def _private_imports(source: str, module: str) -> list[str]:
    """``emkit`` imports in ``source`` that reach an underscore-prefixed module or name."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "emkit" and any(p.startswith("_") for p in parts[1:]):
                    found.append(f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != "emkit":
                continue
            if any(p.startswith("_") for p in parts[1:]):
                found.append(f"from {node.module} import ...")
            for alias in node.names:
                if alias.name.startswith("_") and alias.name != "__version__":
                    found.append(f"from {node.module} import {alias.name}")
    return [f"{module}: {f}" for f in found]


def check_public_imports(kind: str, name: str) -> None:
    """The plugin's package imports nothing private from emkit (``emkit._x``, ``_name``).

    Scans the sources of every module of the package that holds the entry point's
    module. Built-in plugins and emkit itself are exempt only in that emkit's own
    modules are never scanned.
    """
    spec = registry.get_spec(kind, name)
    module_name = spec.value.partition(":")[0]
    top = module_name.split(".")[0]
    if top == "emkit":
        return
    package = sys.modules.get(top) or importlib.import_module(top)
    paths = [Path(p) for p in getattr(package, "__path__", [])] or [Path(package.__file__)]
    problems: list[str] = []
    for root in paths:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for path in files:
            try:
                source = path.read_text(encoding="utf-8")
            except OSError:
                continue
            problems += _private_imports(source, str(path.relative_to(root.parent) if root.is_dir() else path.name))
    assert not problems, (
        "imports emkit internals (underscore-prefixed; they may change in any release): " + "; ".join(problems[:5])
    )
