"""Plugin discovery through ``importlib.metadata`` entry points.

Groups: ``emkit.generators``, ``emkit.pretexts``, ``emkit.tasks``, ``emkit.datasets``;
the entry point's name is the CLI key (``generator=hrnet``). Listing reads names and
distributions only; plugin code is imported when a plugin is chosen (``load``) or
validated. A plugin that fails to import -- with any exception, ``SystemExit`` included
(only ``KeyboardInterrupt`` passes through) -- is reported with its distribution, entry
point and cause and never breaks the others; two distributions claiming one name is an error
naming both.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import importlib.metadata as md
from typing import Any, Iterable

from emkit.errors import PluginError

#: CLI key -> (entry-point group, interface class path, human name)
KINDS: dict[str, tuple[str, str, str]] = {
    "generator": ("emkit.generators", "emkit.interfaces:Generator", "generator"),
    "pretext": ("emkit.pretexts", "emkit.interfaces:Pretext", "pretext"),
    "task": ("emkit.tasks", "emkit.interfaces:Task", "task"),
    "data": ("emkit.datasets", "emkit.interfaces:DataSource", "dataset"),
}


@dataclasses.dataclass(frozen=True)
class PluginSpec:
    """One registered plugin as found in the metadata, before importing it."""

    kind: str
    name: str
    value: str  # "module:attr"
    distribution: str
    version: str

    @property
    def label(self) -> str:
        return f"{self.distribution} {self.version}"


def _entry_points(group: str) -> Iterable[Any]:
    """All installed entry points of ``group`` (tests replace this with fakes)."""
    return md.entry_points(group=group)


def _spec_of(kind: str, ep: Any) -> PluginSpec:
    dist = getattr(ep, "dist", None)
    return PluginSpec(
        kind=kind,
        name=ep.name,
        value=ep.value,
        distribution=getattr(dist, "name", None) or "unknown",
        version=getattr(dist, "version", None) or "?",
    )


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise PluginError(f"Unknown plugin kind {kind!r}; expected one of: {', '.join(KINDS)}")


def discover(kind: str) -> dict[str, list[PluginSpec]]:
    """Map name -> specs (more than one only when distributions clash). No plugin code runs."""
    _check_kind(kind)
    found: dict[str, list[PluginSpec]] = {}
    for ep in _entry_points(KINDS[kind][0]):
        spec = _spec_of(kind, ep)
        same = found.setdefault(spec.name, [])
        # The same distribution seen twice (e.g. on sys.path twice) is not a clash.
        if not any(s.distribution == spec.distribution and s.value == spec.value for s in same):
            same.append(spec)
    return dict(sorted(found.items()))


def available(kind: str) -> list[str]:
    """Sorted names registered for ``kind``."""
    return list(discover(kind))


def _unknown_message(kind: str, name: str, specs: dict[str, list[PluginSpec]]) -> str:
    noun = KINDS[kind][2]
    names = list(specs)
    msg = f"Unknown {noun} {name!r}."
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if not close:
        lowered = {n.lower().replace("_", "-"): n for n in names}
        key = name.lower().replace("_", "-")
        if key in lowered:
            close = [lowered[key]]
    if close:
        msg += f" Did you mean {close[0]!r}?"
    if names:
        listed = ", ".join(f"{n} ({specs[n][0].distribution})" for n in names)
        msg += f" Available: {listed}"
    else:
        msg += f" No {noun} plugins are installed (entry-point group {KINDS[kind][0]})."
    return msg


def get_spec(kind: str, name: str) -> PluginSpec:
    """The unique spec registered as ``name``; did-you-mean error when unknown."""
    specs = discover(kind)
    if name not in specs:
        raise PluginError(_unknown_message(kind, name, specs))
    candidates = specs[name]
    if len(candidates) > 1:
        who = " and ".join(f"{s.label} ({s.value})" for s in candidates)
        raise PluginError(
            f"{KINDS[kind][2].capitalize()} name {name!r} is registered by more than one "
            f"distribution: {who}. Uninstall one of them."
        )
    return candidates[0]


def _interface(kind: str) -> type:
    module, attr = KINDS[kind][1].split(":")
    return getattr(__import__(module, fromlist=[attr]), attr)


def _import_value(value: str) -> Any:
    module, _, attr = value.partition(":")
    obj = __import__(module, fromlist=["_"])
    for part in attr.split(".") if attr else []:
        obj = getattr(obj, part)
    return obj


def _cause(exc: BaseException) -> str:
    """``Type: message`` of a plugin failure on one line (``SystemExit`` says it exited)."""
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r}) while importing"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def check_contract(kind: str, cls: Any) -> list[str]:
    """Problems with ``cls`` as a ``kind`` plugin (empty list when it is fine)."""
    from emkit.interfaces.plugin import API_VERSION, RESERVED_CONFIG_FIELDS

    problems: list[str] = []
    iface = _interface(kind)
    if not (isinstance(cls, type) and issubclass(cls, iface)):
        problems.append(f"is not a subclass of {iface.__module__}.{iface.__name__}")
        return problems
    version = getattr(cls, "api_version", None)
    if version != API_VERSION:
        problems.append(f"targets plugin API version {version}, emkit provides {API_VERSION}")
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and dataclasses.is_dataclass(config)):
        problems.append("has no dataclass `Config`")
    else:
        for f in dataclasses.fields(config):
            if f.name in RESERVED_CONFIG_FIELDS:
                problems.append(f"Config field {f.name!r} is reserved")
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                problems.append(f"Config field {f.name!r} has no default")
        try:
            config()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - report any failure of the plugin's code
            problems.append(f"Config() fails: {_cause(exc)}")
    return problems


@functools.lru_cache(maxsize=None)
def _load_cached(kind: str, name: str, value: str, distribution: str, version: str) -> type:
    spec = PluginSpec(kind, name, value, distribution, version)
    where = f"{KINDS[kind][2]} {name!r} from distribution {spec.label} (entry point {name} = {value})"
    try:
        cls = _import_value(value)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - even sys.exit() in a plugin must not stop emkit
        raise PluginError(f"Failed to load {where}: {_cause(exc)}") from exc
    problems = check_contract(kind, cls)
    if problems:
        raise PluginError(f"Invalid {where}: " + "; ".join(problems))
    return cls


def load(kind: str, name: str) -> type:
    """Import and return the plugin class registered as ``name`` (contract-checked)."""
    spec = get_spec(kind, name)
    return _load_cached(spec.kind, spec.name, spec.value, spec.distribution, spec.version)


def clear_cache() -> None:
    """Forget loaded plugins (tests that fake entry points call this)."""
    _load_cached.cache_clear()


@dataclasses.dataclass
class PluginStatus:
    spec: PluginSpec
    status: str  # "ok", "not loaded", "conflict", "error: ..."


def list_plugins(kinds: Iterable[str] | None = None, *, load_all: bool = False) -> list[PluginStatus]:
    """Every registered plugin with a status; imports plugin code only with ``load_all``."""
    rows: list[PluginStatus] = []
    for kind in kinds or KINDS:
        for name, specs in discover(kind).items():
            for spec in specs:
                if len(specs) > 1:
                    others = ", ".join(s.distribution for s in specs if s is not spec)
                    rows.append(PluginStatus(spec, f"conflict: also registered by {others}"))
                elif load_all:
                    try:
                        load(kind, name)
                        rows.append(PluginStatus(spec, "ok"))
                    except PluginError as exc:
                        rows.append(PluginStatus(spec, f"error: {exc}"))
                else:
                    rows.append(PluginStatus(spec, "not loaded"))
    return rows
