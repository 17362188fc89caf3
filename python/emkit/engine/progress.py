"""Progress display: a rich bar on a terminal, plain log lines otherwise (CI, files)."""

from __future__ import annotations

import sys
import time
from typing import Any


class Progress:
    def __init__(self, total_steps: int, *, enabled: bool = True, log_every: int = 10) -> None:
        self.total = total_steps
        self.enabled = enabled
        self.log_every = max(1, log_every)
        self.start = time.perf_counter()
        self._rich = None
        self._task = None
        if enabled and sys.stdout.isatty():
            from rich.progress import BarColumn, Progress as RichProgress, TextColumn, TimeRemainingColumn

            self._rich = RichProgress(
                TextColumn("[bold]epoch {task.fields[epoch]}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TextColumn("{task.fields[info]}"),
                TimeRemainingColumn(),
            )
            self._rich.start()
            self._task = self._rich.add_task("train", total=total_steps, epoch=0, info="")

    def update(self, step: int, epoch: int, values: dict[str, Any]) -> None:
        if not self.enabled:
            return
        info = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items())
        if self._rich is not None:
            self._rich.update(self._task, completed=step, epoch=epoch, info=info)
        elif step % self.log_every == 0 or step == self.total:
            elapsed = time.perf_counter() - self.start
            eta = elapsed / max(step, 1) * (self.total - step)
            print(f"epoch {epoch} step {step}/{self.total}  {info}  eta {eta:.0f}s", flush=True)

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        if self._rich is not None:
            self._rich.console.print(text)
        else:
            print(text, flush=True)

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
