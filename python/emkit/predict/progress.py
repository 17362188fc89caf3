"""Progress of ``emkit predict``: one line over files, with the tiles of the current file.

Built on :class:`emkit.console.progress.Progress` (on stderr, so stdout keeps only the
written paths): the position counts finished files, the ETA counts tiles too -- a file
half through its tiles counts as half a file -- and the key value is the tile count of
the current file (``tiles 40/160``).
"""

from __future__ import annotations

import sys
from typing import Any, Optional


class PredictProgress:
    """A no-op when disabled."""

    def __init__(self, files: int, *, enabled: bool = True, stream: Any = None, **options: Any) -> None:
        self._progress: Optional[Any] = None
        self._files_done = 0
        self._tiles = (0, 0)
        self._name = ""
        if not enabled:
            return
        from emkit.console.progress import Progress

        self._progress = Progress(files, unit="files", label="predict",
                                  stream=stream if stream is not None else sys.stderr, **options)

    def _show(self) -> None:
        if self._progress is None:
            return
        done, total = self._tiles
        fraction = done / total if total else 0.0
        self._progress.update(self._files_done + min(fraction, 0.999),
                              values={"tiles": f"{done}/{total}", "file": self._name})

    def start_file(self, name: str, tiles: int) -> None:
        self._name, self._tiles = name, (0, tiles)
        self._show()

    def tiles_done(self, count: int) -> None:
        self._tiles = (self._tiles[0] + count, self._tiles[1])
        self._show()

    def file_done(self) -> None:
        self._files_done += 1
        self._tiles = (self._tiles[1], self._tiles[1])
        if self._progress is not None:
            self._progress.update(self._files_done, values={"tiles": f"{self._tiles[0]}/{self._tiles[1]}",
                                                             "file": self._name})

    def message(self, text: str) -> None:
        if self._progress is not None:
            self._progress.message(text)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress = None
