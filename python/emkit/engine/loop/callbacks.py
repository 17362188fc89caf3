"""Trainer callbacks: code that observes a run at fixed points without living in the loop.

The loop calls ``on_step_end(run)`` after every optimisation step (after logging, before
the step's checkpoint) and ``on_train_end(run)`` once the weights are final (buffers
synchronised, before export). ``run`` is the trainer's ``TrainRun`` (``step``, ``epoch``,
``objective``, ``dist_info``, ``out``).

Callbacks come from ``train(cfg, callbacks=[...])`` (or ``launch(overrides, files,
callbacks=[...])``, which front ends such as the napari plugin use for live curves and a
cancel button: an exception raised in a hook stops the run, its folder keeping the last
checkpoint) and from the environment:
``EMKIT_TRAIN_CALLBACKS=module:factory[,module:factory]`` imports each module and calls
the factory (a class or function without arguments) in every process of the run, DDP
ranks included. emkit's tests use it for fault injection in subprocess runs (a SIGKILL
mid-run, dumping each rank's weights); production runs register none.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from emkit.errors import ConfigError

ENV_VAR = "EMKIT_TRAIN_CALLBACKS"


class TrainCallback:
    """Base class: override the hooks you need (both do nothing by default)."""

    def on_step_end(self, run: Any) -> None:
        """After optimisation step ``run.step`` (1-based count of finished steps)."""

    def on_train_end(self, run: Any) -> None:
        """After the last epoch, with final weights on every rank."""


def from_environment(environ: dict[str, str] | None = None) -> list[TrainCallback]:
    """The callbacks ``EMKIT_TRAIN_CALLBACKS`` names (none when it is unset or empty)."""
    spec = (os.environ if environ is None else environ).get(ENV_VAR, "")
    callbacks = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        module_name, sep, attr = item.partition(":")
        if not sep or not module_name or not attr:
            raise ConfigError(f"{ENV_VAR}: expected module:factory, got {item!r}")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"{ENV_VAR}: cannot load {item!r}: {exc}") from exc
        callbacks.append(factory())
    return callbacks
