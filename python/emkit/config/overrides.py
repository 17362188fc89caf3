"""Parse Hydra-style ``key=value`` command-line overrides and YAML config files.

``generator=hrnet`` selects a plugin (same as ``generator.name=hrnet``);
``generator.blocks=4`` sets a value; values are read as YAML scalars or lists
(``eval_epochs=[5,30,60]``, ``lr=2e-4``, ``compile=true``) and fall back to the raw
string when they are not valid YAML.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from emkit.config.schema import PLUGIN_SECTIONS
from emkit.errors import ConfigError

_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def parse_value(text: str) -> Any:
    """YAML scalar/list/mapping, or the raw string when it does not parse."""
    if text == "":
        return ""
    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError):  # ValueError: an int beyond Python's digit limit
        return text
    # YAML 1.1 reads "1e-4" as a string (it wants a dot); accept plain float syntax too.
    if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        return float(value)
    return value


def set_path(tree: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``tree[a][b][c] = value`` for ``dotted = "a.b.c"``, creating sections."""
    parts = dotted.split(".")
    node = tree
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if not isinstance(child, dict):
            if part in PLUGIN_SECTIONS and isinstance(child, str):
                child = {"name": child}
            elif child is not None:
                raise ConfigError(
                    f"Config key {'.'.join(parts[: i + 1])!r} is a value, not a section; "
                    f"cannot set {dotted!r}"
                )
            else:
                child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def normalise_sections(tree: dict[str, Any], origin: str) -> dict[str, Any]:
    """Turn ``generator: hrnet`` into ``generator: {name: hrnet}`` at the top level."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if key in PLUGIN_SECTIONS and isinstance(value, str):
            out[key] = {"name": value}
        elif key in PLUGIN_SECTIONS and value is not None and not isinstance(value, dict):
            raise ConfigError(f"{origin}: {key!r} must be a plugin name or a mapping, got {value!r}")
        else:
            out[key] = value
    return out


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["generator=hrnet", "generator.blocks=4"]`` -> nested dict."""
    tree: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"Expected key=value, got {item!r} (e.g. generator=hrnet train.epochs=5)")
        if any(not part for part in key.split(".")):
            raise ConfigError(f"Malformed config key {key!r} in {item!r}")
        value = parse_value(raw)
        if "." not in key and key in PLUGIN_SECTIONS:
            if not isinstance(value, str):
                raise ConfigError(f"{key!r} selects a plugin by name, got {value!r}")
            set_path(tree, f"{key}.name", value)
        else:
            set_path(tree, key, value)
    return tree


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file; errors name the file."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {str(p)!r}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"Config file {str(p)!r} is not valid YAML: {exc}".replace("\n", " ")) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"Config file {str(p)!r} must hold a mapping at the top level")
    return normalise_sections(data, str(p))


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Recursive merge: mappings merge, anything else in ``over`` replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            # Choosing another plugin drops the old plugin's options.
            if "name" in value and out[key].get("name") not in (None, value["name"]):
                out[key] = dict(value)
            else:
                out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def option_style_hint(items: list[str], known_keys: list[str]) -> str | None:
    """A did-you-mean line when ``items`` holds ``--epochs 5``-style options, else None.

    emkit settings are ``key=value`` words; a typer/click option spelling is answered with
    the spelling that works (``--epochs 5`` -> ``train.epochs=5``). ``known_keys`` are the
    dotted keys to match against (e.g. ``train.epochs``, ``seed``, ``generator``).
    """
    import difflib

    for i, item in enumerate(items):
        if not item.startswith("-") or item in ("-", "--"):
            continue
        body, sep, value = item.lstrip("-").partition("=")
        if not sep and i + 1 < len(items) and "=" not in items[i + 1] and not items[i + 1].startswith("-"):
            value = items[i + 1]
        key = body.replace("-", "_")
        leaf = {k.rsplit(".", 1)[-1]: k for k in known_keys}
        match = key if key in known_keys else leaf.get(key)
        if match is None:
            close = difflib.get_close_matches(key, [*known_keys, *leaf], n=1, cutoff=0.6)
            match = leaf.get(close[0], close[0]) if close else None
        shown = f"{match}={value or '<value>'}" if match else f"{key}={value or '<value>'}"
        return (f"No such option: {item}. Settings are key=value words without dashes: "
                f"did you mean {shown}?")
    return None


def check_option_style(items: list[str]) -> None:
    """Raise a one-line did-you-mean ``ConfigError`` for ``--key value`` spellings in ``items``."""
    if not any(item.startswith("-") for item in items):
        return
    from emkit.config.coerce import field_types
    from emkit.config.schema import RunConfig, TrainConfig

    known = [*field_types(RunConfig), *(f"train.{k}" for k in field_types(TrainConfig)), *PLUGIN_SECTIONS]
    hint = option_style_hint(items, known)
    if hint:
        raise ConfigError(hint)
