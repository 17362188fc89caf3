"""The public callback protocol: observe a training run, and stop it, from outside the loop.

``emkit.train(..., callbacks=[...])`` (and the CLI's progress line, the napari widgets, a
notebook's live plot) hand objects with any of these methods to the loop; each receives a
small, read-only info record:

* ``on_start(StartInfo)`` -- once, before the first step (the run folder exists);
* ``on_step(StepInfo)`` -- after every optimisation step (losses of the logged window
  when the step was logged, else ``{}``);
* ``on_eval(EvalInfo)`` -- after each evaluation of a split (``val`` every epoch, ``test``
  at ``eval_epochs``), with its mean metrics;
* ``on_epoch(EpochInfo)`` -- after the epoch's metrics row is written;
* ``on_end(EndInfo)`` -- once the weights are final (every rank, before export);
* ``on_message(text)`` -- a line for the user (rank 0): where the run is, notes and
  warnings at the start, the summary at the end (the CLI prints them above its progress
  line; a notebook may print or ignore them).

A hook stops the run by returning ``STOP`` (or raising ``StopTraining``): the loop finishes
the step, writes a checkpoint and raises ``TrainingInterrupted``, which ``emkit.train``
turns into a ``Run`` with ``stopped=True``; ``emkit run resume=<run>`` continues it. Under
DDP every rank runs the callbacks and a stop on any rank stops all of them after the same
step. Any other exception raised in a hook stops the run too and propagates (the folder
keeps its last checkpoint). Callbacks run in the training process: ``launcher=torchrun``,
which starts new processes, refuses them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping, Sequence

from emkit.errors import EmkitError

#: Return this from a hook to stop the run after the current step (checkpoint kept).
STOP = "stop"


class StopTraining(EmkitError):
    """Raise this in a hook to stop the run after the current step (checkpoint kept)."""


@dataclasses.dataclass(frozen=True)
class RunPoint:
    """Where in which run: its folder, ``stage`` (``pretext`` or ``task``), the finished
    optimisation steps and this process's rank (0 without DDP)."""

    run_dir: Path
    stage: str
    step: int
    rank: int


@dataclasses.dataclass(frozen=True)
class StartInfo(RunPoint):
    """The run's length and the step it resumes from (``step`` 0 when new)."""

    total_steps: int = 0
    epochs: int = 0
    steps_per_epoch: int = 0
    world_size: int = 1
    notes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class StepInfo(RunPoint):
    """One finished optimisation step (``step`` counts finished steps, from 1)."""

    total_steps: int = 0
    epoch: int = 0
    epochs: int = 0
    #: Mean losses of the logged window (as in metrics.csv); empty on steps that were not logged.
    losses: Mapping[str, float] = dataclasses.field(default_factory=dict)
    lr: float = 0.0
    #: Throughput of the logged window (images over all ranks), None on steps that were not logged.
    images_per_s: float | None = None


@dataclasses.dataclass(frozen=True)
class EvalInfo(RunPoint):
    """Mean metrics of one evaluated split (``val`` or ``test``) after ``epoch``."""

    split: str = "val"
    epoch: int = 0
    metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class EpochInfo(RunPoint):
    """The epoch's metrics row as written to metrics.csv (``val_*``, ``test_*``)."""

    epoch: int = 0
    epochs: int = 0
    metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class EndInfo(RunPoint):
    """The run finished: the trained generator (this rank's copy)."""

    generator: Any = None


class Callback:
    """Base class with every hook doing nothing: override the ones you need."""

    def on_start(self, info: StartInfo) -> Any:
        """Before the first step."""

    def on_step(self, info: StepInfo) -> Any:
        """After each optimisation step."""

    def on_eval(self, info: EvalInfo) -> Any:
        """After each evaluated split."""

    def on_epoch(self, info: EpochInfo) -> Any:
        """After each epoch's metrics row."""

    def on_end(self, info: EndInfo) -> Any:
        """With final weights, before export."""

    def on_message(self, text: str) -> Any:
        """A line for the user (rank 0 only)."""


HOOKS = ("on_start", "on_step", "on_eval", "on_epoch", "on_end", "on_message")


def check_callbacks(callbacks: Sequence[Any]) -> list[Any]:
    """The callbacks as a list; one clear error for an object with none of the hooks."""
    out = []
    for i, callback in enumerate(callbacks or ()):
        if not any(callable(getattr(callback, hook, None)) for hook in HOOKS):
            raise EmkitError(f"callbacks[{i}] ({type(callback).__name__}) has none of the hooks "
                             f"{', '.join(HOOKS)}; subclass emkit.Callback")
        out.append(callback)
    return out


def notify(callbacks: Sequence[Any], hook: str, info: Any) -> bool:
    """Call ``hook(info)`` on every callback that has it; True when one asked to stop."""
    stop = False
    for callback in callbacks:
        method = getattr(callback, hook, None)
        if method is None:
            continue
        try:
            stop = (method(info) == STOP) or stop
        except StopTraining:
            stop = True
    return stop
