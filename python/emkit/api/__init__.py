"""emkit's public Python API: what the CLI, the napari plugin and notebooks are built on.

::

    import emkit

    data = emkit.synthesize("stem", 24)                          # or your own arrays
    run = emkit.train(task="background-removal", generator="unet", init="self",
                      images=data.image, targets=data.target, train={"epochs": 20})
    model = emkit.load(run)                                      # a run, weights or bioimage.io zip
    restored = model.predict(big_image, tile=512, tta=True)      # numpy in, numpy out
    table = emkit.compare(["runs/a", "runs/b"]).to_markdown()

* ``train`` / ``sweep`` / ``evaluate``: ``emkit run`` / ``sweep`` / ``eval`` with the same
  keys, validation, errors and run folders; ``train`` returns a ``Run``.
* ``load`` → ``Model`` (``predict``, ``predict_all``, ``task``, ``config``, ``export``).
* ``compare`` → ``emkit.report.Comparison`` (rows, paired P − R, baselines, Markdown, figures).
* ``Callback`` (``on_start``, ``on_step``, ``on_eval``, ``on_epoch``, ``on_end``,
  ``on_message``) with ``StartInfo``/``StepInfo``/``EvalInfo``/``EpochInfo``/``EndInfo``;
  return ``STOP`` or raise ``StopTraining`` to stop a run (its checkpoint is kept).
* ``read_image`` (pixels + pixel size), ``synthesize`` (labelled synthetic EM data),
  ``IMAGE_SUFFIXES`` / ``EM_SUFFIXES`` (the file endings emkit reads).

Every user mistake raises an ``EmkitError`` subclass with the one-line message the CLI
prints. Nothing here is needed by plugins: they use ``emkit.interfaces`` / ``emkit.plugin_api``.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> the module of ``emkit.api`` (or the engine's callback protocol) defining it.
#: Served lazily, so ``import emkit.api`` and the suffix lists do not load torch.
WHERE = {
    "compare": "emkit.api.comparison",
    "Image": "emkit.api.images", "Synthetic": "emkit.api.images", "read_image": "emkit.api.images",
    "synthesize": "emkit.api.images", "IMAGE_SUFFIXES": "emkit.api.images", "EM_SUFFIXES": "emkit.api.images",
    "Model": "emkit.api.model", "load": "emkit.api.model",
    "Run": "emkit.api.run",
    "evaluate": "emkit.api.training", "evidence_dir": "emkit.api.training", "sweep": "emkit.api.training",
    "train": "emkit.api.training",
    **{name: "emkit.engine.loop.callbacks" for name in ("STOP", "Callback", "EndInfo", "EpochInfo", "EvalInfo",
                                                      "StartInfo", "StepInfo", "StopTraining")},
}

__all__ = sorted(WHERE)


def __getattr__(name: str) -> Any:
    if name in WHERE:
        return getattr(importlib.import_module(WHERE[name]), name)
    raise AttributeError(f"module 'emkit.api' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *WHERE])
