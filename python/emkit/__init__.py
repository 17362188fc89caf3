"""emkit: self-supervised GAN pretraining and fine-tuning for electron-microscopy images.

The public Python API (``emkit.api``, re-exported here) is what notebooks, the CLI and
the napari plugin use::

    import emkit
    run = emkit.train(task="segmentation", images=images, masks=masks, init="self")
    model = emkit.load(run)
    mask = model.predict(image, tile=512)

See ``docs/python_api.md``. Generators, pretexts, tasks and datasets are plugins
discovered through Python entry points (``emkit.interfaces``, ``emkit.plugin_api``).

Heavy modules (torch, the native extension) are imported lazily -- ``import emkit`` and
``emkit plugins list`` stay fast and a CPU-only machine imports cleanly.
"""

from __future__ import annotations

import importlib
from typing import Any

from emkit._version import __version__
from emkit.errors import ConfigError, DataError, EmkitError

#: Names served lazily from ``emkit.api`` (most load torch when first used).
API = ("train", "sweep", "evaluate", "evidence_dir", "load", "compare", "read_image", "synthesize",
       "IMAGE_SUFFIXES", "EM_SUFFIXES", "Run", "Model", "Image", "Synthetic", "Callback", "StartInfo",
       "StepInfo", "EvalInfo", "EpochInfo", "EndInfo", "STOP", "StopTraining")

__all__ = ["__version__", "EmkitError", "ConfigError", "DataError", *API]


#: Sub-packages reachable as attributes after a plain ``import emkit``.
SUBPACKAGES = ("ops", "registry", "interfaces", "config", "data", "testing", "plugin_api", "api")


def __getattr__(name: str) -> Any:
    if name in API:
        return getattr(importlib.import_module("emkit.api"), name)
    if name in SUBPACKAGES:
        return importlib.import_module(f"emkit.{name}")
    raise AttributeError(f"module 'emkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *API])
