"""Input images as ``(N, C, H, W)`` sources that hand out strips of rows.

* Uncompressed TIFFs whose pixels are contiguous (what ``tifffile.memmap`` accepts)
  are read strip by strip with positional reads at the offset tifffile reports: the
  file is never in memory as a whole, and no mapped pages pile up in the resident set
  (pages of a memory map that were touched count as resident until it is closed).
* Everything else (compressed or tiled TIFF, PNG, HDF5, MRC, DM/EMD/SER) is read once
  with ``emkit.data.readers.read_image`` and served from that array.

Axes: a 2-D file is one image; with a one-channel generator every leading axis is a
stack of images; with a C-channel generator the axis before ``(H, W)`` must have C
entries (the channels) and the ones before it are the stack.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Optional

import numpy as np

from emkit.data.readers import BadFileError, read_image, sniff_format
from emkit.predict.metadata import ImageMeta, read_meta


class ImageSource:
    """Base class: ``shape`` is ``(N, C, H, W)``; ``read_rows`` returns ``(C, rows, W)``."""

    path: Path
    shape: tuple[int, int, int, int]
    dtype: np.dtype
    meta: ImageMeta

    def read_rows(self, n: int, r0: int, r1: int) -> np.ndarray:
        raise NotImplementedError

    def sample(self, n: int, limit: int) -> np.ndarray:
        """Pixels of image ``n``: all of them, or an evenly strided subsample of about ``limit``."""
        _, _, h, w = self.shape
        if h * w <= limit:
            return self.read_rows(n, 0, h).reshape(-1)
        step = math.ceil(math.sqrt(h * w / limit))
        return np.concatenate([self.read_rows(n, r, r + 1)[..., ::step].reshape(-1) for r in range(0, h, step)])

    def close(self) -> None:
        pass

    def __enter__(self) -> "ImageSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ArraySource(ImageSource):
    """An in-memory array (already read by the data readers)."""

    def __init__(self, path: Path, array: np.ndarray, in_channels: int, meta: ImageMeta) -> None:
        self.path = path
        self.array = array.reshape(stack_shape(array.shape, in_channels, path))
        self.shape = tuple(self.array.shape)  # type: ignore[assignment]
        self.dtype = self.array.dtype
        self.meta = meta

    def read_rows(self, n: int, r0: int, r1: int) -> np.ndarray:
        return self.array[n, :, r0:r1]


class TiffStripSource(ImageSource):
    """Contiguous uncompressed TIFF pixels read with positional reads (one strip cached)."""

    def __init__(self, path: Path, offset: int, raw_shape: tuple[int, ...], dtype: np.dtype,
                 in_channels: int, meta: ImageMeta) -> None:
        self.path = path
        self.offset = int(offset)
        self.shape = stack_shape(raw_shape, in_channels, path)
        self.file_dtype = np.dtype(dtype)
        self.dtype = self.file_dtype.newbyteorder("=")
        self.meta = meta
        self._fd: Optional[int] = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        self._cache: tuple[tuple[int, int, int], np.ndarray] | None = None

    def read_rows(self, n: int, r0: int, r1: int) -> np.ndarray:
        if self._cache is not None:
            (cn, c0, c1), block = self._cache
            if cn == n and c0 <= r0 and r1 <= c1:
                return block[:, r0 - c0 : r1 - c0]
        self._cache = None  # release the old strip before allocating the new one
        _, c, h, w = self.shape
        item = self.file_dtype.itemsize
        block = np.empty((c, r1 - r0, w), self.dtype)
        for ch in range(c):
            start = self.offset + ((n * c + ch) * h + r0) * w * item
            if self.file_dtype == self.dtype:
                _read_into(self._fd, memoryview(block[ch]).cast("B"), start, self.path)
            else:  # stored in the other byte order: read as stored, then convert
                raw = np.empty((r1 - r0, w), self.file_dtype)
                _read_into(self._fd, memoryview(raw).cast("B"), start, self.path)
                block[ch] = raw
        self._cache = ((n, r0, r1), block)
        return block

    def sample(self, n: int, limit: int) -> np.ndarray:
        values = super().sample(n, limit)
        self._cache = None  # a whole-image read must not stay cached
        return values

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._cache = None


def _read_into(fd: Optional[int], buf: memoryview, offset: int, path: Path) -> None:
    """Fill ``buf`` from the file at ``offset``: positional reads straight into the array."""
    if fd is None:
        raise ValueError(f"{path} is closed")
    try:
        _read_fully(fd, buf, offset, path)
    except OSError as exc:
        raise BadFileError(path, f"cannot read pixel data ({exc.strerror or exc})") from None


def _read_fully(fd: int, buf: memoryview, offset: int, path: Path) -> None:
    got = 0
    while got < len(buf):
        if hasattr(os, "preadv"):
            count = os.preadv(fd, [buf[got:]], offset + got)
        else:  # no positional reads (Windows): one reader per descriptor, so seeking is safe
            os.lseek(fd, offset + got, os.SEEK_SET)
            data = os.read(fd, len(buf) - got)
            buf[got : got + len(data)] = data
            count = len(data)
        if count == 0:
            raise BadFileError(path, f"truncated TIFF (pixel data ends at byte {offset + got})")
        got += count


def stack_shape(raw: tuple[int, ...], in_channels: int, path: Path) -> tuple[int, int, int, int]:
    """``(N, C, H, W)`` of an array shaped ``raw`` for a generator with ``in_channels``."""
    raw = tuple(int(s) for s in raw)
    if len(raw) < 2 or min(raw) == 0:
        raise BadFileError(path, f"expected a 2-D image or a stack of them, got shape {raw}")
    h, w = raw[-2:]
    if in_channels == 1:
        return (math.prod(raw[:-2]), 1, h, w)
    if len(raw) < 3 or raw[-3] != in_channels:
        raise BadFileError(
            path, f"the model takes {in_channels} channels, expected shape (..., {in_channels}, H, W), got {raw}"
        )
    return (math.prod(raw[:-3]), in_channels, h, w)


def open_source(path: str | os.PathLike[str], in_channels: int, *, key: Optional[str] = None) -> ImageSource:
    """Open ``path`` for reading strips (see the module docstring)."""
    p = Path(path)
    family = sniff_format(p)
    meta = read_meta(p, family, key)
    if family == "tiff":
        try:
            source = _open_tiff_strips(p, in_channels, meta)
        except OSError as exc:
            raise BadFileError(p, f"cannot open file ({exc.strerror or exc})") from None
        if source is not None:
            return source
    arr = read_image(p, key=key, check=False)
    if arr.dtype.kind not in "uifb":
        raise BadFileError(p, f"unsupported pixel type {arr.dtype} (expected integers or floats)")
    return ArraySource(p, arr, in_channels, meta)


def _open_tiff_strips(path: Path, in_channels: int, meta: ImageMeta) -> Optional[TiffStripSource]:
    """A strip source when the TIFF's first series is contiguous, uncompressed and grey."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            if getattr(page, "samplesperpixel", 1) != 1:
                return None  # RGB(A): the reader converts to grey
        mm = tifffile.memmap(path, mode="r")
    except Exception:  # noqa: BLE001 - not memory-mappable (compressed, tiled, broken ...): the reader decides
        return None
    offset, shape, dtype = int(mm.offset), tuple(mm.shape), mm.dtype
    del mm  # never touched: no pages were read
    if dtype.kind not in "uif":
        return None
    return TiffStripSource(path, offset, shape, dtype, in_channels, meta)
