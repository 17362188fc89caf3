"""Output TIFFs written strip by strip, with the input's metadata.

``tifffile.memmap`` creates the file (header, tags, JSON description, space for the
pixels) without writing any pixel; rows then go to their place with ``os.pwrite`` as
the engine finishes them, so the output is never whole in memory. The file is written
through ``emkit.storage.atomic`` (a hidden temp file beside the output, fsynced and
renamed when complete; removed when the prediction fails): an interrupted prediction
never leaves a truncated TIFF under the final name.

Layout: ``(N, C, H, W)`` with singleton N and C dropped; stacks become one multi-page
TIFF. BigTIFF is chosen by tifffile when the pixels exceed 4 GB.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Optional

import numpy as np

from emkit.errors import EmkitError
from emkit.storage.atomic import atomic_path


class _Abandoned(Exception):
    """Thrown into the atomic write to discard it (``close(ok=False)``)."""


class TiffStripWriter:
    """A new TIFF of ``shape = (N, C, H, W)`` filled by ``write(n, r0, rows)``."""

    def __init__(self, path: Path, shape: tuple[int, int, int, int], dtype: np.dtype,
                 tiff_kwargs: Optional[dict[str, Any]] = None) -> None:
        import tifffile

        self.path = Path(path)
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype).newbyteorder("=")
        n, c, h, w = self.shape
        stored = tuple(s for s, keep in ((n, n > 1), (c, c > 1), (h, True), (w, True)) if keep)
        axes = "".join(a for a, keep in (("Q", n > 1), ("C", c > 1), ("Y", True), ("X", True)) if keep)
        kwargs = dict(tiff_kwargs or {})
        kwargs["metadata"] = {**(kwargs.get("metadata") or {}), "axes": axes}
        self._write = contextlib.ExitStack()
        self.temp = self._write.enter_context(atomic_path(self.path))
        try:
            mm = tifffile.memmap(self.temp, shape=stored, dtype=self.dtype, photometric="minisblack", **kwargs)
        except (OSError, ValueError) as exc:
            self._abandon()
            raise EmkitError(f"{self.path}: cannot create output TIFF ({exc})") from None
        self.offset = int(mm.offset)
        del mm
        self._fd: Optional[int] = os.open(self.temp, os.O_WRONLY | getattr(os, "O_BINARY", 0))

    def write(self, n: int, r0: int, rows: np.ndarray) -> None:
        """Store ``rows`` (``(C, k, W)``) as rows ``r0 .. r0 + k`` of image ``n``."""
        _, c, h, w = self.shape
        if rows.shape[0] != c or rows.shape[2] != w:
            raise ValueError(f"rows of shape {rows.shape} do not fit {self.shape}")
        item = self.dtype.itemsize
        for ch in range(c):
            data = np.ascontiguousarray(rows[ch], dtype=self.dtype)
            _pwrite_all(self._fd, memoryview(data).cast("B"), self.offset + ((n * c + ch) * h + r0) * w * item)

    def close(self, ok: bool = True) -> None:
        """Finish (fsync and rename into place) when ``ok``, else delete the temp file."""
        if self._fd is None:
            return
        os.close(self._fd)
        self._fd = None
        if ok:
            self._write.close()
        else:
            self._abandon()

    def _abandon(self) -> None:
        self._write.__exit__(_Abandoned, _Abandoned(), None)


def _pwrite_all(fd: Optional[int], data: memoryview, offset: int) -> None:
    if fd is None:
        raise ValueError("writer is closed")
    done = 0
    while done < len(data):
        if hasattr(os, "pwrite"):
            done += os.pwrite(fd, data[done:], offset + done)
        else:  # Windows: no positional writes (one writer per descriptor, so seeking is safe)
            os.lseek(fd, offset + done, os.SEEK_SET)
            done += os.write(fd, data[done:])
