"""Every process of a run must train the same thing: compare the resolved configs at start.

Each rank hashes its resolved config (after the settings decided at start-up, such as
``train.channels_last``); the hashes are gathered, and when they differ the flattened
configs are too, so every rank stops with the same one-line ``ConfigError`` naming the
keys that differ and each rank's value -- before the first training collective, where a
mismatch (another batch size, another model) would otherwise hang or corrupt the run.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from emkit.engine.runtime import distributed
from emkit.errors import ConfigError

#: Differing keys listed in the message (the rest are counted).
SHOWN = 6


def config_hash(tree: dict[str, Any]) -> str:
    """A stable digest of a resolved config tree."""
    return hashlib.sha256(json.dumps(tree, sort_keys=True, default=str).encode()).hexdigest()


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"batch_size": 4}}`` -> ``{"train.batch_size": 4}``."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def differences(flat_by_rank: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Keys whose value is not the same on every rank -> the value on each rank."""
    missing = object()
    keys = sorted(set().union(*flat_by_rank))
    out = {}
    for key in keys:
        values = [flat.get(key, missing) for flat in flat_by_rank]
        if any(v != values[0] for v in values[1:]):
            out[key] = ["<unset>" if v is missing else v for v in values]
    return out


def mismatch_message(diffs: dict[str, list[Any]]) -> str:
    """One line naming the differing keys and each rank's value."""
    parts = []
    for key, values in list(diffs.items())[:SHOWN]:
        per_rank = ", ".join(f"rank {r}: {v!r}" for r, v in enumerate(values))
        parts.append(f"{key} ({per_rank})")
    more = f"; and {len(diffs) - SHOWN} more" if len(diffs) > SHOWN else ""
    hint = (" -- an elastic restart or resume= needs runs_dir on a filesystem every node sees"
            if "resume" in diffs else "")
    return (f"The processes of this run resolved different configs, so they would not train the same "
            f"model: {'; '.join(parts)}{more}. Start every process with the same command, config files "
            f"and data{hint}")


def check_same_config(info: distributed.DistInfo, tree: dict[str, Any]) -> None:
    """Refuse to start when the ranks' resolved configs differ (see the module docstring)."""
    if not info.enabled:
        return
    hashes = distributed.gather_objects(info, config_hash(tree))
    if len(set(hashes)) == 1:
        return
    diffs = differences(distributed.gather_objects(info, flatten(tree)))
    raise ConfigError(mismatch_message(diffs))
