"""Resolve the layered configuration of one run.

Layering (later wins): package defaults < plugin ``Config`` defaults (and a pretext's or
task's ``train_defaults``) < preset
(``preset=paper``) < ``--config file.yaml`` (in order) < ``key=value`` on the command line.
Every key and value is validated before any work starts (types and the ranges fields
declare); values that depend on several sections (the learning rate, evaluation epochs)
are settled here (settle.py), so the result -- typed dataclass instances plus the plain
tree saved as ``runs/<run>/config.yaml`` -- is what the run uses. Command-line overrides
and config files are read once (``read_layers``); callers that need a user value before
resolution (``launch`` for ``resume``/``init``) look it up in those layers.
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path
from typing import Any

import yaml

from emkit import registry
from emkit.config.coerce import build_dataclass, field_types, to_dict
from emkit.config.overrides import deep_merge, load_yaml, parse_overrides
from emkit.config.schema import PLUGIN_SECTIONS, RunConfig, TrainConfig
from emkit.config.settle import settle
from emkit.errors import ConfigError

#: Plugins chosen when the user names none (only if installed).
DEFAULT_PLUGINS: dict[str, str] = {"generator": "unet"}

#: Presets every run understands; pretexts/tasks add their own through a ``presets``
#: class attribute ({name: nested overrides}).
PACKAGE_PRESETS: dict[str, dict[str, Any]] = {}


@dataclasses.dataclass
class ResolvedConfig:
    """A validated run configuration."""

    tree: dict[str, Any]
    run: RunConfig
    train: TrainConfig
    plugins: dict[str, tuple[str, Any]]  # section -> (plugin name, Config instance)
    #: One line per setting that was adjusted during resolution (printed by the caller).
    warnings: list[str] = dataclasses.field(default_factory=list)

    def plugin_name(self, section: str) -> str | None:
        return self.plugins[section][0] if section in self.plugins else None

    def plugin_config(self, section: str) -> Any:
        if section not in self.plugins:
            raise ConfigError(f"No {section} plugin is chosen; add {section}=<name>")
        return self.plugins[section][1]

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.tree, sort_keys=False)

    def refresh_tree(self) -> None:
        """Rebuild ``tree`` from the typed objects (after a setting was adjusted)."""
        self.tree = _serialise(self.run, self.train, self.plugins)


@dataclasses.dataclass
class UserLayers:
    """What the user wrote, parsed once: config files (in order) and command-line overrides."""

    files: list[dict[str, Any]]
    cli: dict[str, Any]

    def merged(self, base: dict[str, Any] | None = None) -> dict[str, Any]:
        """``base`` < files (in order) < command line, merged in that order."""
        tree = _lift_train_aliases(dict(base or {}))
        for layer in [*self.files, self.cli]:
            tree = deep_merge(tree, layer)
        return tree


def read_layers(overrides: list[str] | None = None,
                config_files: list[str | Path] | None = None) -> UserLayers:
    """Parse ``key=value`` overrides and read YAML files, each exactly once."""
    raw = [load_yaml(path) for path in config_files or []] + [parse_overrides(list(overrides or []))]
    lifted = [_lift_train_aliases(layer) for layer in raw]
    return UserLayers(files=lifted[:-1], cli=lifted[-1])


def _serialise(run: RunConfig, train: TrainConfig, plugins: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    clean: dict[str, Any] = to_dict(run)
    clean["train"] = to_dict(train)
    for section, (name, cfg) in plugins.items():
        clean[section] = {"name": name, **to_dict(cfg)}
    return clean


def _lift_train_aliases(tree: dict[str, Any]) -> dict[str, Any]:
    """``epochs=2`` is accepted as ``train.epochs=2`` (top-level train keys are aliases)."""
    run_keys = set(field_types(RunConfig))
    train_keys = set(field_types(TrainConfig))
    out = dict(tree)
    for key in list(out):
        if key in train_keys and key not in run_keys and key not in PLUGIN_SECTIONS:
            out.setdefault("train", {})
            if not isinstance(out["train"], dict):
                raise ConfigError("'train' must be a mapping of training settings")
            out["train"] = {**out["train"], key: out.pop(key)}
    return out


def _check_top_level(tree: dict[str, Any]) -> None:
    known = sorted(set(field_types(RunConfig)) | set(PLUGIN_SECTIONS) | {"train"})
    for key in tree:
        if key not in known:
            hint = difflib.get_close_matches(key, known + sorted(field_types(TrainConfig)), n=1)
            msg = f"Unknown config key {key!r}."
            if hint:
                msg += f" Did you mean {hint[0]!r}?"
            msg += " Top-level keys: " + ", ".join(known)
            raise ConfigError(msg)


def _presets_of(classes: dict[str, type]) -> dict[str, dict[str, Any]]:
    presets = dict(PACKAGE_PRESETS)
    for cls in classes.values():
        for name, values in (getattr(cls, "presets", None) or {}).items():
            presets[name] = deep_merge(presets.get(name, {}), values)
    return presets


def _preset(user: dict[str, Any], classes: dict[str, type]) -> tuple[dict[str, Any], list[str]]:
    """The chosen preset's settings and the warning lines about them.

    A preset may name a generator with its settings (``generator: {name: unet, blocks: 3}``):
    it is used when the user chooses none; when the user chooses another one the preset's
    generator settings are left out (with a warning), since they belong to its generator.
    """
    preset_name = user.get("preset")
    if preset_name is None:
        return {}, []
    presets = _presets_of(classes)
    if preset_name not in presets:
        raise ConfigError(f"Unknown preset {preset_name!r}. Available: {', '.join(sorted(presets)) or '(none)'}")
    tree = _lift_train_aliases(presets[preset_name])
    wanted = (tree.get("generator") or {}).get("name")
    chosen = (user.get("generator") or {}).get("name")
    if wanted and chosen and chosen != wanted:
        tree = {k: v for k, v in tree.items() if k != "generator"}
        return tree, [f"preset={preset_name} recommends generator={wanted} with its own settings; generator={chosen} "
                      "keeps its defaults (the preset's other settings apply)"]
    return tree, []


def _choose_plugins(user: dict[str, Any]) -> tuple[dict[str, str], dict[str, type]]:
    """Which plugin fills each section: the user's choice, the objective's default data,
    or a package default; returns (section -> name, section -> loaded class)."""
    chosen: dict[str, str] = {}
    classes: dict[str, type] = {}
    for section, kind in PLUGIN_SECTIONS.items():
        values = user.get(section) or {}
        name = values.get("name")
        if name is None and section == "data":
            for owner in ("pretext", "task"):
                if owner in classes and getattr(classes[owner], "default_data", None):
                    name = classes[owner].default_data
        if name is None and section in DEFAULT_PLUGINS and DEFAULT_PLUGINS[section] in registry.available(kind):
            name = DEFAULT_PLUGINS[section]
        if name is None:
            extra = [k for k in values if k != "name"]
            if extra:
                raise ConfigError(
                    f"'{section}.{extra[0]}' is set but no {section} is chosen; add {section}=<name>"
                )
            continue
        if not isinstance(name, str):
            raise ConfigError(f"{section!r} selects a plugin by name, got {name!r}")
        classes[section] = registry.load(kind, name)
        chosen[section] = name
    return chosen, classes


def resolve(
    overrides: list[str] | None = None,
    config_files: list[str | Path] | None = None,
    *,
    base: dict[str, Any] | None = None,
    layers: UserLayers | None = None,
) -> ResolvedConfig:
    """Resolve and validate a run configuration (see the module docstring).

    ``layers`` (from ``read_layers``) replaces ``overrides``/``config_files`` when the
    caller has already read them; ``base`` (e.g. a resumed run's config.yaml) sits under
    the user's layers.
    """
    if layers is None:
        layers = read_layers(overrides, config_files)
    user = layers.merged(base)
    _check_top_level(user)

    if user.get("pretext", {}).get("name") and user.get("task", {}).get("name"):
        raise ConfigError(
            "Choose either a pretext (pretraining) or a task (fine-tuning), not both: "
            f"got pretext={user['pretext']['name']!r} and task={user['task']['name']!r}"
        )

    chosen, classes = _choose_plugins(user)
    preset_tree, preset_warnings = _preset(user, classes)
    if preset_tree.get("generator", {}).get("name") and not (user.get("generator") or {}).get("name"):
        chosen, classes = _choose_plugins(deep_merge({"generator": {"name": preset_tree["generator"]["name"]}}, user))

    defaults: dict[str, Any] = to_dict(RunConfig())
    defaults["train"] = to_dict(TrainConfig())
    for section, cls in classes.items():
        defaults[section] = {"name": chosen[section], **to_dict(cls.Config())}
        if section in ("pretext", "task"):
            defaults["train"] = deep_merge(defaults["train"], dict(getattr(cls, "train_defaults", {}) or {}))

    tree = deep_merge(deep_merge(defaults, preset_tree), user)

    run_values = {k: v for k, v in tree.items() if k not in PLUGIN_SECTIONS and k != "train"}
    run = build_dataclass(RunConfig, run_values, "", owner="the run")
    train_values = tree.get("train") or {}
    if not isinstance(train_values, dict):
        raise ConfigError(f"'train' must be a mapping, got {train_values!r}")
    train = build_dataclass(TrainConfig, train_values, "train")

    plugins: dict[str, tuple[str, Any]] = {}
    for section, cls in classes.items():
        values = {k: v for k, v in tree[section].items() if k != "name"}
        owner = f"{section} {chosen[section]!r}"
        plugins[section] = (chosen[section], build_dataclass(cls.Config, values, section, owner=owner))

    warnings = preset_warnings + settle(run, train, plugins)
    # Re-serialise from the typed objects so config.yaml holds the values used.
    return ResolvedConfig(tree=_serialise(run, train, plugins), run=run, train=train, plugins=plugins,
                          warnings=warnings)
