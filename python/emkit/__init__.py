"""emkit: self-supervised GAN pretraining and fine-tuning for electron-microscopy images.

The package is a small engine (interfaces, plugin registry, config, CLI, training loop)
plus fused C++/CUDA data ops in ``emkit._C``. Generators, pretexts, tasks and datasets
are plugins discovered through Python entry points; the built-in ones live in
``emkit_builtin`` and are registered exactly like a third party's.

Heavy modules (torch, the native extension) are imported lazily so that
``emkit plugins list`` stays fast and a CPU-only machine imports cleanly.
"""

from __future__ import annotations

import importlib
from typing import Any

from emkit._version import __version__
from emkit.errors import EmkitError

__all__ = ["__version__", "EmkitError", "ops", "registry", "interfaces", "config"]


def __getattr__(name: str) -> Any:
    if name in {"ops", "registry", "interfaces", "config", "engine", "data", "testing"}:
        return importlib.import_module(f"emkit.{name}")
    raise AttributeError(f"module 'emkit' has no attribute {name!r}")
