"""A corpus of bad and odd input files, written at test time (no binary fixtures in the repo).

Each ``Case`` writes one file (or link) next to a good image and says what each path
should make of it: ``"error"`` (one clear ``EmkitError`` naming the file, or a skip
under ``on_error=skip``), ``"ok"`` (read like any image) or ``"warn"`` (predicted, with a
warning naming the file).
"""

from __future__ import annotations

import dataclasses
import os
import struct
import zlib
from pathlib import Path
from typing import Callable

import h5py
import numpy as np
import tifffile
from PIL import Image

SIZE = 32


@dataclasses.dataclass(frozen=True)
class Case:
    """``write(folder) -> path``; the expected outcome in the dataset and predict paths."""

    name: str
    write: Callable[[Path], Path]
    dataset: str
    predict: str


def noise(dtype=np.uint8, shape=(SIZE, SIZE), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.random(shape).astype(dtype)
    return rng.integers(1, 250, shape).astype(dtype)


def _tiff(name: str, arr: np.ndarray, **kwargs) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        tifffile.imwrite(folder / name, arr, **kwargs)
        return folder / name

    return write


def _truncated(name: str, make: Callable[[Path], None], keep: float = 0.6) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        make(path)
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])
        return path

    return write


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return write


def _corrupt_deflate(folder: Path) -> Path:
    """A zlib-compressed TIFF whose compressed strip is damaged: zlib.error inside tifffile."""
    path = folder / "deflate_damaged.tif"
    tifffile.imwrite(path, noise(np.uint16, (64, 64)), compression="zlib", rowsperstrip=64)
    with tifffile.TiffFile(path) as tif:
        offset, count = tif.pages[0].dataoffsets[0], tif.pages[0].databytecounts[0]
    data = bytearray(path.read_bytes())
    data[offset + 2 : offset + count] = bytes(count - 2)  # keep the zlib header, zero the stream
    path.write_bytes(bytes(data))
    return path


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _bomb(folder: Path) -> Path:
    """A tiny PNG whose header claims 100000 x 100000 pixels."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
    data += _png_chunk(b"IEND", b"")
    (folder / "bomb.png").write_bytes(data)
    return folder / "bomb.png"


def _tiff_bomb(folder: Path) -> Path:
    """A small zlib TIFF whose width and length tags claim 60000 x 60000 pixels."""
    path = folder / "bomb.tif"
    tifffile.imwrite(path, np.zeros((64, 64), np.uint8), compression="zlib")
    with tifffile.TiffFile(path) as tif:
        tags = tif.pages[0].tags
        places = [(tags[t].valueoffset, "<H" if tags[t].dtype == 3 else "<I") for t in ("ImageWidth", "ImageLength")]
    data = bytearray(path.read_bytes())
    for offset, fmt in places:
        data[offset : offset + struct.calcsize(fmt)] = struct.pack(fmt, 60000)
    path.write_bytes(bytes(data))
    return path


def _loop(folder: Path) -> Path:
    os.symlink("loop.tif", folder / "loop.tif")
    return folder / "loop.tif"


def _dir_loop(folder: Path) -> Path:
    (folder / "deeper").mkdir()
    os.symlink("..", folder / "deeper" / "up")
    return folder / "deeper" / "up"


def _non_utf8(folder: Path) -> Path:
    raw = os.fsencode(folder) + b"/odd\xff\xfename.tif"
    tifffile.imwrite(raw.decode("utf-8", "surrogateescape"), noise(seed=3))
    return Path(raw.decode("utf-8", "surrogateescape"))


def _with(value: float, name: str) -> Callable[[Path], Path]:
    arr = noise(np.float32, seed=4)
    arr[3, 5] = value
    return _tiff(name, arr)


def _h5(path: Path) -> None:
    with h5py.File(path, "w") as fh:
        fh.create_dataset("images", data=noise(np.float32, (4, SIZE, SIZE)))


def _png(path: Path) -> None:
    Image.fromarray(noise(seed=5)).save(path)


def _plain_tiff(path: Path) -> None:
    tifffile.imwrite(path, noise(np.uint16, (64, 64), seed=6))


#: Images: through the folder dataset and through ``emkit predict``.
IMAGE_CASES = [
    Case("zero-byte", _bytes("empty.tif", b""), "error", "error"),
    Case("truncated-tiff", _truncated("truncated.tif", _plain_tiff), "error", "error"),
    Case("truncated-png", _truncated("truncated.png", _png), "error", "error"),
    Case("truncated-hdf5", _truncated("truncated.h5", _h5, keep=0.5), "error", "error"),
    Case("damaged-deflate-tiff", _corrupt_deflate, "error", "error"),
    Case("text-as-tiff", _bytes("notes.tif", b"this is not an image\n" * 20), "error", "error"),
    Case("tiff-named-png", lambda f: _tiff("really_tiff.png", noise(seed=7))(f), "ok", "ok"),
    Case("bomb-png", _bomb, "error", "error"),
    Case("bomb-tiff", _tiff_bomb, "error", "error"),
    Case("symlink-loop", _loop, "error", "error"),
    Case("folder-link-loop", _dir_loop, "error", "error"),
    Case("non-utf8-name", _non_utf8, "ok", "ok"),
    Case("one-nan", _with(np.nan, "nan.tif"), "error", "error"),
    Case("one-inf", _with(np.inf, "inf.tif"), "error", "error"),
    Case("all-nan", _tiff("allnan.tif", np.full((SIZE, SIZE), np.nan, np.float32)), "error", "error"),
    Case("constant", _tiff("constant.tif", np.full((SIZE, SIZE), 7, np.uint8)), "error", "warn"),
    Case("one-by-one", _tiff("tiny.tif", np.array([[9]], np.uint8)), "error", "warn"),
    Case("wrong-rank", _tiff("stack5d.tif", noise(np.uint8, (2, 3, 4, 5, 6)), photometric="minisblack"), "error", "warn"),
]


def _mask(name: str, arr: np.ndarray) -> Callable[[Path], Path]:
    """A pair: a good image ``image/<name>`` and the mask ``mask/<name>``."""

    def write(root: Path) -> Path:
        tifffile.imwrite(root / "image" / name, noise(seed=8, shape=arr.shape if arr.ndim == 2 else (SIZE, SIZE)))
        tifffile.imwrite(root / "mask" / name, arr)
        return root / "mask" / name

    return write


def _unpaired(root: Path) -> Path:
    tifffile.imwrite(root / "image" / "alone.tif", noise(seed=9))
    return root / "image" / "alone.tif"


def _size_mismatch(root: Path) -> Path:
    tifffile.imwrite(root / "image" / "mismatch.tif", noise(seed=10))
    tifffile.imwrite(root / "mask" / "mismatch.tif", np.zeros((SIZE // 2, SIZE), np.uint8))
    return root / "mask" / "mismatch.tif"


_soft = np.linspace(0, 1, SIZE * SIZE, dtype=np.float32).reshape(SIZE, SIZE)

#: Masks and pairs: through ``mask-folder`` (``mask_mode=auto``); value = expected classes or None.
MASK_CASES = [
    ("mask-01", _mask("m01.tif", (_soft > 0.5).astype(np.uint8)), (_soft > 0.5).astype(np.uint8)),
    ("mask-0-255", _mask("m255.tif", (_soft > 0.5).astype(np.uint8) * 255), (_soft > 0.5).astype(np.uint8)),
    ("mask-bool", _mask("mbool.tif", _soft > 0.5), (_soft > 0.5).astype(np.uint8)),
    ("mask-soft", _mask("msoft.tif", _soft), (_soft >= 0.5).astype(np.uint8)),
    ("mask-stray-values", _mask("mstray.tif", (np.arange(SIZE * SIZE) % 200).astype(np.uint8).reshape(SIZE, SIZE)),
     None),
    ("mask-signed-soft", _mask("msigned.tif", _soft * 2 - 1), None),
    ("mask-nan", _mask("mnan.tif", np.where(_soft > 0.9, np.nan, 0).astype(np.float32)), None),
    ("unpaired-image", _unpaired, None),
    ("size-mismatch", _size_mismatch, None),
]
