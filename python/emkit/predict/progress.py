"""Progress of ``emkit predict``: one bar over files, one over the tiles of the current file."""

from __future__ import annotations

from typing import Any, Optional


class PredictProgress:
    """Rich progress bars on stderr (a no-op when disabled)."""

    def __init__(self, files: int, *, enabled: bool = True) -> None:
        self._progress: Optional[Any] = None
        self._files: Any = None
        self._tiles: Any = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TimeRemainingColumn(), console=Console(stderr=True), transient=False,
        )
        self._progress.start()
        self._files = self._progress.add_task("files", total=files)
        self._tiles = self._progress.add_task("tiles", total=None)

    def start_file(self, name: str, tiles: int) -> None:
        if self._progress is not None:
            self._progress.reset(self._tiles, total=tiles, description=f"tiles [dim]{name}[/]")

    def tiles_done(self, count: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._tiles, count)

    def file_done(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._files, 1)

    def message(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, highlight=False, markup=False)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
