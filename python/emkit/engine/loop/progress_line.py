"""The terminal progress line of a training run, as a callback of the public protocol.

``emkit run`` (and ``emkit.train(progress=True)``) add ``ProgressLine`` to the run's
callbacks: it prints the run's messages (run folder, notes, warnings, epoch summaries,
the end) and keeps one live line with step, ETA, the first losses and images/s -- redrawn
in place on a terminal, one plain line every 30 s in a log file, and an in-place updated
cell output in a Jupyter notebook (``emkit.console``). Only rank 0 shows anything.
"""

from __future__ import annotations

from typing import Any, Optional

from emkit.console.progress import Progress, make_progress
from emkit.engine.loop.callbacks import Callback, EndInfo, EpochInfo, StartInfo, StepInfo


class ProgressLine(Callback):
    """Step, ETA and the key losses of a run on one line; messages above it."""

    def __init__(self) -> None:
        self.progress: Optional[Progress] = None
        self.pending: list[str] = []

    def on_start(self, info: StartInfo) -> None:
        self.progress = make_progress(info.total_steps, enabled=info.rank == 0, epochs=info.epochs,
                                      initial=info.step)
        for line in self.pending:  # messages sent before the line existed
            self.progress.message(line)
        self.pending = []

    def on_message(self, text: str) -> None:
        if self.progress is None:
            self.pending.append(text)
        else:
            self.progress.message(text)

    def on_step(self, info: StepInfo) -> Any:
        if self.progress is None or not info.losses:
            return None
        values: dict[str, float] = dict(list(info.losses.items())[:3])
        if info.images_per_s is not None:
            values["img/s"] = info.images_per_s
        self.progress.update(info.step, info.epoch, values)
        return None

    def on_epoch(self, info: EpochInfo) -> None:
        return None

    def on_end(self, info: EndInfo) -> None:
        if self.progress is not None:
            self.progress.close()
