"""Validate and convert a parsed value against a dataclass field's type annotation.

Supports the annotations plugin configs use: bool, int, float, str, Optional/Union,
Literal, list/tuple of those, dict, and nested dataclasses. Errors name the full key,
the expected type and, for Literal, the allowed values, on one line. Numbers are also
checked against the range their field declares (see ``ranges.py``).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import types
import typing
from typing import Any, Literal, Union

from emkit.config.ranges import check_number, declared_range, show_value
from emkit.errors import ConfigError


@functools.lru_cache(maxsize=None)
def field_types(cls: type) -> dict[str, Any]:
    """Resolved annotations of a dataclass (handles ``from __future__ import annotations``)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def describe(tp: Any) -> str:
    """Human-readable name of a type annotation."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        inner = " or ".join(describe(a) for a in args)
        return f"{inner} or null" if len(args) < len(typing.get_args(tp)) else inner
    if origin in (list, tuple):
        args = typing.get_args(tp)
        return f"list of {describe(args[0])}" if args else "list"
    if origin is dict:
        return "mapping"
    if dataclasses.is_dataclass(tp):
        return f"mapping of {tp.__name__} fields"
    return getattr(tp, "__name__", str(tp))


def _fail(key: str, tp: Any, value: Any) -> ConfigError:
    return ConfigError(f"Invalid value for {key!r}: expected {describe(tp)}, got {show_value(value)}")


def coerce(value: Any, tp: Any, key: str) -> Any:
    """Return ``value`` converted to ``tp`` or raise ``ConfigError`` naming ``key``."""
    if tp is Any:
        return value
    origin = typing.get_origin(tp)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value in allowed and not (isinstance(value, bool) and True in allowed and 1 in allowed):
            return value
        raise _fail(key, tp, value)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return coerce(value, arg, key)
            except ConfigError:
                continue
        raise _fail(key, tp, value)
    if origin in (list, tuple):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            if value is None:
                raise _fail(key, tp, value)
            value = [value]  # a single scalar is a one-element list
        args = typing.get_args(tp)
        inner = args[0] if args else Any
        items = [coerce(v, inner, f"{key}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise _fail(key, tp, value)
        return dict(value)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise _fail(key, tp, value)
        return build_dataclass(tp, value, key)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _fail(key, tp, value)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _fail(key, tp, value)
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return float(value)
            except OverflowError:
                raise ConfigError(f"Invalid value for {key!r}: {show_value(value)} is too large "
                                  f"(expected {describe(tp)})") from None
        raise _fail(key, tp, value)
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise _fail(key, tp, value)
    if tp is type(None):
        if value is None:
            return None
        raise _fail(key, tp, value)
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise _fail(key, tp, value)


def is_numeric(tp: Any) -> bool:
    """True for int/float annotations, also inside Optional/Union/list/tuple."""
    if tp in (int, float):
        return True
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType, list, tuple):
        return any(is_numeric(a) for a in typing.get_args(tp) if a is not type(None) and a is not Ellipsis)
    return False


def unknown_key_error(prefix: str, name: str, known: list[str], owner: str) -> ConfigError:
    full = f"{prefix}.{name}" if prefix else name
    msg = f"Unknown config key {full!r} for {owner}."
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        msg += f" Did you mean {(prefix + '.' if prefix else '') + close[0]!r}?"
    msg += " Valid keys: " + (", ".join(known) if known else "(none)")
    return ConfigError(msg)


def build_dataclass(cls: type, values: dict[str, Any], prefix: str, owner: str | None = None) -> Any:
    """Instantiate dataclass ``cls`` from ``values`` (missing fields take their defaults)."""
    types_ = field_types(cls)
    owner = owner or (f"section {prefix!r}" if prefix else "the run")
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        if name not in types_:
            raise unknown_key_error(prefix, name, sorted(types_), owner)
        key = f"{prefix}.{name}" if prefix else name
        kwargs[name] = coerce(value, types_[name], key)
        check_number(key, kwargs[name], declared_range(cls, name))
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Invalid {owner}: {exc}") from exc


def to_dict(obj: Any) -> dict[str, Any]:
    """A dataclass instance as a plain YAML-able dict (tuples become lists)."""

    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(obj)


def numeric_fields_without_range(cls: type, prefix: str = "") -> list[str]:
    """Dotted names of int/float fields of dataclass ``cls`` (recursively) that declare no range."""
    missing: list[str] = []
    types_ = field_types(cls)
    for f in dataclasses.fields(cls):
        tp = types_[f.name]
        name = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            missing += numeric_fields_without_range(tp, name + ".")
        elif is_numeric(tp) and declared_range(cls, f.name) is None:
            missing.append(name)
    return missing
