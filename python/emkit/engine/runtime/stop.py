"""Graceful stop: Ctrl-C / SIGTERM finish the current step, save a checkpoint, then exit."""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from typing import Iterator, Optional

from emkit.errors import EmkitError


class TrainingInterrupted(EmkitError):
    """Raised after a requested stop has been checkpointed; ``run_dir`` is the folder to resume."""

    def __init__(self, message: str, run_dir: Optional[Path] = None) -> None:
        super().__init__(message)
        self.run_dir = run_dir


class StopRequest:
    def __init__(self) -> None:
        self.requested = False

    def _handler(self, signum, frame) -> None:  # noqa: ANN001
        if self.requested:  # second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.requested = True

    @contextlib.contextmanager
    def installed(self) -> Iterator["StopRequest"]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        old = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        for sig in old:
            signal.signal(sig, self._handler)
        try:
            yield self
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)
