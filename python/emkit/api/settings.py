"""Python arguments → the ``key=value`` words of the command line, so both validate alike.

``emkit.train("task=segmentation", generator="unet", train={"epochs": 5}, seed=1)`` becomes
``task=segmentation generator=unet train.epochs=5 seed=1``: strings are used as given,
keyword values as YAML (``eval_epochs=[5, 30]``), mappings as dotted keys (a mapping for
a plugin group may carry the plugin as ``name``). The words then go through the same
resolution as ``emkit run`` -- unknown keys and wrong types fail with the same one-line,
did-you-mean errors, naming the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from emkit.config.overrides import check_option_style
from emkit.errors import ConfigError


def yaml_value(value: Any) -> str:
    """One override value as YAML text (``True`` → ``true``, lists in flow style, paths as text)."""
    if isinstance(value, os.PathLike):  # a Path or a Run
        value = os.fspath(value)
    if isinstance(value, str):
        return value
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9).strip()
    return text.removesuffix("...").strip()


def flatten(key: str, value: Any) -> list[str]:
    """``key=value`` words for one keyword argument (mappings become dotted keys)."""
    if not isinstance(value, Mapping):
        return [f"{key}={yaml_value(value)}"]
    words = [f"{key}={yaml_value(value['name'])}"] if "name" in value else []
    for sub, inner in value.items():
        if sub != "name":
            words += flatten(f"{key}.{sub}", inner)
    return words


def to_overrides(words: Sequence[str], settings: Mapping[str, Any]) -> list[str]:
    """Positional ``key=value`` strings followed by the keyword settings, checked like the CLI's."""
    check_option_style([w for w in words if isinstance(w, str)])  # --epochs 5: the CLI's did-you-mean
    items = []
    for i, word in enumerate(words):
        if not isinstance(word, str) or "=" not in word:
            raise ConfigError(f"argument {i + 1} ({word!r}): expected a key=value string such as "
                              "'train.epochs=5', or pass settings as keywords (train={'epochs': 5})")
        items.append(word)
    for key, value in settings.items():
        if value is not None:
            items += flatten(key, value)
    check_option_style(items)
    return items


def config_files(config: str | Path | Sequence[str | Path] | None) -> list[str]:
    """``config=`` as a list of YAML file names (one file or several, applied in order)."""
    if config is None:
        return []
    if isinstance(config, (str, Path)):
        return [str(config)]
    return [str(c) for c in config]
