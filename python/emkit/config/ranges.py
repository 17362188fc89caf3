"""Valid ranges of numeric config fields, declared next to each field's definition.

A field declares its range with ``ranged(default, lo, hi)``::

    batch_size: int = ranged(8, 1, 65536)
    lr: float = ranged(2e-4, 0, 10, exclusive_min=True)
    weights: list[float] = ranged(lo=0, hi=None, default_factory=list)

``(lo, hi)`` is inclusive; ``None`` leaves a side open (write ``None``, not a large
number, for "unbounded"); ``exclusive_min=True`` / ``exclusive_max=True`` make a bound
strict (a learning rate must be > 0, a split fraction < 1). ``ranged`` is the one way
emkit and its built-in plugins declare a range. It stores the range in the field's
metadata (``{"range": (lo, hi), "exclusive_min": ..., "exclusive_max": ...}``), and that
metadata is what emkit reads (``Range.of``), so a third-party plugin that writes the
metadata itself (``dataclasses.field(default=8, metadata={"range": (1, 64)})``, no emkit
import) keeps working. ``coerce.numeric_fields_without_range`` lists fields that declare
none. The coercion layer (``coerce.build_dataclass``) checks every value (each item of a
list) against it, so a bad number fails during config resolution, before any run folder
exists, with one line naming the key, the value and the range. ``None`` for an ``Optional`` field is always allowed.
A subclass that redefines a field only to change its default keeps the base's range.

Independently of declared ranges, every int must fit in 64 bits and every float must be
finite: a 26-digit seed or ``batch_size=1e100`` never reaches the engine.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from emkit.errors import ConfigError

RANGE_KEY = "range"
EXCLUSIVE_MIN_KEY = "exclusive_min"
EXCLUSIVE_MAX_KEY = "exclusive_max"
INT64_MAX = 2**63 - 1


def ranged(default: Any = dataclasses.MISSING, lo: float | None = None, hi: float | None = None, *,
           exclusive_min: bool = False, exclusive_max: bool = False,
           default_factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with a declared valid range (see the module docstring)."""
    metadata = {RANGE_KEY: (lo, hi), EXCLUSIVE_MIN_KEY: exclusive_min, EXCLUSIVE_MAX_KEY: exclusive_max}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class Range:
    """An interval ``[lo, hi]`` (open on a side marked exclusive); None = unbounded."""

    lo: float | None
    hi: float | None
    exclusive_min: bool = False
    exclusive_max: bool = False

    @classmethod
    def of(cls, field: dataclasses.Field) -> "Range | None":
        """The range a field declares in its metadata, or None."""
        declared = field.metadata.get(RANGE_KEY)
        if declared is None:
            return None
        lo, hi = declared
        return cls(lo, hi, bool(field.metadata.get(EXCLUSIVE_MIN_KEY, False)),
                   bool(field.metadata.get(EXCLUSIVE_MAX_KEY, False)))

    def contains(self, value: float) -> bool:
        if isinstance(value, float) and math.isnan(value):
            return False
        if self.lo is not None and (value <= self.lo if self.exclusive_min else value < self.lo):
            return False
        return self.hi is None or (value < self.hi if self.exclusive_max else value <= self.hi)

    def __str__(self) -> str:
        left = "(" if self.exclusive_min or self.lo is None else "["
        right = ")" if self.exclusive_max or self.hi is None else "]"
        lo = "-inf" if self.lo is None else _bound(self.lo)
        hi = "inf" if self.hi is None else _bound(self.hi)
        return f"{left}{lo}, {hi}{right}"


def _bound(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def declared_range(cls: type, name: str) -> Range | None:
    """The range of field ``name`` of dataclass ``cls``; a subclass that only changes a
    field's default (``length: int = 500``) keeps the range its base class declares."""
    for klass in cls.__mro__:
        if not dataclasses.is_dataclass(klass):
            continue
        own = {f.name: f for f in dataclasses.fields(klass)}
        if name in own:
            found = Range.of(own[name])
            if found is not None:
                return found
    return None


def show_value(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters (a 101-digit int stays one short line)."""
    try:
        text = repr(value)
    except ValueError:  # ints beyond Python's digit limit refuse repr
        return "<a number too large to print>"
    if len(text) <= limit:
        return text
    if isinstance(value, int):
        return f"{text[:12]}… ({len(text)} digits)"
    return text[:limit] + "…"


def check_number(key: str, value: Any, declared: Range | None) -> None:
    """Raise ``ConfigError`` when a coerced number is huge, not finite or out of range.

    Lists and tuples are checked item by item; non-numbers and None pass untouched.
    """
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_number(f"{key}[{i}]", item, declared)
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if isinstance(value, int) and abs(value) > INT64_MAX:
        raise ConfigError(f"Invalid value for {key!r}: {show_value(value)} does not fit in 64 bits"
                          + (f"; valid range {declared}" if declared else ""))
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"Invalid value for {key!r}: {value!r} is not a finite number"
                          + (f"; valid range {declared}" if declared else ""))
    if declared is not None and not declared.contains(value):
        raise ConfigError(f"Invalid value for {key!r}: {show_value(value)} is outside the valid range {declared}")

