"""Readable ``--help`` placeholders: ``MODEL INPUTS...``, ``N``, ``PATH`` -- not ``{model}``,
``<list[str]>`` or ``<bool>``.

typer (0.29) prints a required argument as ``{model}`` in the usage line, every type as a
Python annotation in angle brackets and flags as ``<bool>``. :func:`polish` walks the
click command tree once, before it runs, and gives every parameter the conventional
spelling instead: arguments in capitals (optional ones in ``[ ]``, repeatable ones with
``...``), types as ``INT``/``FLOAT``/``TEXT``/``PATH`` (``TEXT...`` for lists), and
nothing for on/off flags. It only sets display hooks on parameter instances; parsing is
untouched.
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

from typer.core import TyperGroup

#: Annotation → placeholder.
_NAMES = {int: "INT", float: "FLOAT", str: "TEXT", bool: "BOOL"}


def placeholder(annotation: Any) -> str:
    """``INT``, ``PATH``, ``TEXT...`` for ``int``, ``Path``, ``list[str]``."""
    if get_origin(annotation) in (list, tuple):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        return (placeholder(args[0]) if args else "TEXT") + "..."
    if annotation in _NAMES:
        return _NAMES[annotation]
    name = getattr(annotation, "__name__", str(annotation))
    return "PATH" if name.endswith("Path") else name.upper()


def _type_label(param: Any) -> str | None:
    if getattr(param, "is_flag", False) or getattr(param, "is_bool_flag", False):
        return None
    if param.metavar is not None:
        return param.metavar
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and getattr(descriptor, "is_choice", False) and descriptor.choices:
        return "|".join(str(getattr(c, "value", c)) for c in descriptor.choices)
    annotation = getattr(descriptor, "annotation", None)
    return placeholder(annotation) if annotation is not None else None


def _polish_param(param: Any) -> Any:
    if getattr(param, "_emkit_polished", False):
        return param
    label = _type_label(param)
    param.display_type_rich = lambda ctx=None: label
    param.display_type = lambda ctx=None: label
    if param.param_type_name == "argument":
        name = (param.metavar or param.name or "").upper()
        repeat = "..." if param.nargs != 1 else ""
        param.metavar = name + repeat  # the arguments panel and error hints ("Missing argument 'MODEL'")
        param._rich_display_name = lambda: name + repeat
        param._usage_display_name = lambda: (name if param.required else f"[{name}]") + repeat
    param._emkit_polished = True
    return param


def polish(command: Any) -> Any:
    """Give every parameter of ``command`` and its sub-commands readable placeholders."""
    original = command.get_params

    def get_params(ctx: Any) -> list[Any]:
        return [_polish_param(p) for p in original(ctx)]

    command.get_params = get_params
    for sub in getattr(command, "commands", {}).values():
        polish(sub)
    return command


class ReadableGroup(TyperGroup):
    """The root command group (``typer.Typer(cls=ReadableGroup)``): polishes the whole tree."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        polish(self)
