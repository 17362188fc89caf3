"""Class-level checks shared by pretexts and tasks: defaults, presets, default data.

An objective's ``train_defaults``, ``presets`` and ``default_data`` only matter when a
run is resolved, so a mistake there surfaces as a confusing error on a user's first
``emkit run``; resolving the config here catches it in the author's tests.
"""

from __future__ import annotations

from typing import Any

from emkit import registry


def check_objective_class(kind: str, name: str) -> None:
    """``default_data`` is installed, ``train_defaults`` are valid ``train`` settings,
    and ``emkit run <kind>=<name>`` (plus each ``preset=``) resolves."""
    from emkit.config import TrainConfig, resolve, to_dict
    from emkit.config.coerce import build_dataclass

    cls = registry.load(kind, name)
    default_data = getattr(cls, "default_data", None)
    if default_data is not None:
        assert isinstance(default_data, str), f"default_data must be a dataset name or None, got {default_data!r}"
        assert default_data in registry.available("data"), (
            f"default_data {default_data!r} is not an installed dataset (available: "
            f"{', '.join(registry.available('data')) or 'none'}); `emkit run {kind}={name}` would fail"
        )
    train_defaults = dict(getattr(cls, "train_defaults", {}) or {})
    build_dataclass(TrainConfig, {**to_dict(TrainConfig()), **train_defaults}, "train",
                    owner=f"{name}.train_defaults")
    presets: dict[str, Any] = dict(getattr(cls, "presets", {}) or {})
    assert all(isinstance(p, dict) for p in presets.values()), "presets must map names to nested dicts"
    resolve([f"{kind}={name}"])
    for preset in presets:
        resolve([f"{kind}={name}", f"preset={preset}"])
