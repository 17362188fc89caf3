"""Pack a folder of images into memory-mapped shards, and read them back without copies.

Reading 500k small TIFFs costs a file open, a header parse and a decode per image; the
training loop then waits on the file system. ``pack_folder`` converts a corpus once into
a few large raw arrays (``shard-00000.bin``: N x H x W uint8 or uint16, C order) plus

* ``files.txt``  -- the sample keys in order (relative path, ``path#k`` for stack slices;
  the same keys the ``folder`` dataset uses, so both give the same splits for a seed);
* ``index.json`` -- format version, dtype, height, width, count, the shards with their
  sample counts and BLAKE2b digests, the sources (first-level folders) as contiguous
  ranges, intensity statistics (mean/std/min/max in [0, 1] units) and skipped files.

Every input file goes through the same validation as training reads (empty, truncated,
NaN/Inf, constant, wrong rank, wrong size): a bad file stops packing with a message
naming it, or is skipped and listed in the index under ``on_error="skip"``.

Packing is resumable: after every ``checkpoint_every`` files the shards are flushed and
``progress.json`` records how far it got (with a digest of the file list, so a changed
source folder is not resumed into); a rerun continues from there. ``index.json`` is
written last: its presence means the pack is complete. The JSON files and ``files.txt``
are replaced through ``emkit.storage.atomic`` (temp file, fsync, rename), so a kill
leaves the previous version, never half a file.

``PackedArray`` opens a pack: ``sample(i)`` is a zero-copy ``(H, W)`` view of the mapped
shard, ``gather(indices)`` copies a batch straight into a (pinned, when CUDA is there)
tensor with one contiguous read per run of neighbouring samples.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np
import torch

from emkit.data.geometry import fit
from emkit.data.intensity import RunningStats, dtype_max, percentile_scale
from emkit.data.readers import BadFileError, list_images, read_image
from emkit.data.sampling import source_of
from emkit.errors import DataError
from emkit.storage.atomic import remove_stale_temps, write_atomic, write_text_atomic

FORMAT = "emkit-packed"
VERSION = 1
INDEX = "index.json"
PROGRESS = "progress.json"
FILES = "files.txt"


def _digest(items: Iterable[str]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for item in items:
        h.update(item.encode())
        h.update(b"\n")
    return h.hexdigest()


def shard_name(k: int) -> str:
    return f"shard-{k:05d}.bin"


def hash_file(path: Path, nbytes: Optional[int] = None, chunk: int = 1 << 24) -> str:
    """BLAKE2b of the first ``nbytes`` of ``path`` (all of it when None)."""
    h = hashlib.blake2b(digest_size=16)
    left = nbytes if nbytes is not None else os.path.getsize(path)
    with open(path, "rb") as fh:
        while left > 0:
            block = fh.read(min(chunk, left))
            if not block:
                break
            h.update(block)
            left -= len(block)
    return h.hexdigest()


def _to_dtype(arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Store ``arr`` as ``dtype``: same type as is, otherwise a percentile stretch to full scale."""
    if arr.dtype == dtype:
        return arr
    if arr.dtype == np.uint8 and dtype == np.uint16:
        return arr.astype(np.uint16) * np.uint16(257)  # exact 8 -> 16 bit rescale
    return np.rint(percentile_scale(arr, 0.0, 100.0) * dtype_max(dtype)).astype(dtype)


def _slices(arr: np.ndarray, path: Path) -> list[np.ndarray]:
    """The 2-D images in ``arr``: itself, the slices of a stack, or NCHW with C = 1."""
    if arr.ndim == 2:
        return [arr]
    if arr.ndim == 3:
        return list(arr)
    if arr.ndim == 4 and arr.shape[1] == 1:
        return list(arr[:, 0])
    raise BadFileError(path, f"wrong rank: cannot pack an array of shape {tuple(arr.shape)} as 2-D images")


def _pack_format(first: np.ndarray, size: Optional[int], dtype: str) -> tuple[tuple[int, int], np.dtype]:
    """(shape, stored dtype) of a pack, fixed by its first image."""
    fitted = fit(first, size)
    auto = np.uint8 if first.dtype == np.uint8 else np.uint16
    return (int(fitted.shape[0]), int(fitted.shape[1])), np.dtype(auto if dtype == "auto" else dtype)


def _fit_all(path: Path, images: list[np.ndarray], size: Optional[int], shape: tuple[int, int],
             store: np.dtype) -> list[np.ndarray]:
    """Every image of one file fitted to the pack's shape and converted to its dtype."""
    prepared = []
    for img in images:
        img = fit(img, size)
        if img.shape != shape:
            raise BadFileError(
                path, f"size {img.shape[1]}x{img.shape[0]} differs from the pack's {shape[1]}x{shape[0]} "
                "(pass --size to crop/pad every image to one size)"
            )
        prepared.append(_to_dtype(img, store))
    return prepared


def _check_pack_arguments(src_path: Path, out_path: Path, dtype: str, on_error: str) -> None:
    """Refuse a missing source folder, unknown options or an output folder already packed."""
    if not src_path.is_dir():
        raise DataError(f"{src_path}: source folder not found" if not src_path.exists() else f"{src_path}: not a folder")
    if on_error not in ("raise", "skip"):
        raise DataError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if dtype not in ("auto", "uint8", "uint16"):
        raise DataError(f"dtype must be auto, uint8 or uint16, got {dtype!r}")
    if (out_path / INDEX).exists():
        raise DataError(f"{out_path}: already holds a complete pack ({INDEX}); choose another output folder")


def pack_folder(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    size: Optional[int] = None,
    dtype: str = "auto",
    shard_mb: int = 256,
    on_error: str = "raise",
    checkpoint_every: int = 500,
    progress: Optional[Callable[[int, int, str], None]] = None,
    stop_after: Optional[int] = None,
) -> dict[str, Any]:
    """Pack every image under ``src`` into ``out``; returns the index (see module doc).

    ``size``: centre-crop/pad every image to size x size (else all must share the first
    image's size). ``dtype``: "uint8", "uint16" or "auto" (uint8 when the first image is
    8-bit, uint16 otherwise). ``progress(done, total, file)`` is called per file.
    ``stop_after``: stop (resumably) after that many files -- for tests of resuming.
    """
    src_path, out_path = Path(src), Path(out)
    _check_pack_arguments(src_path, out_path, dtype, on_error)
    loops: list[list[str]] = []
    files = list_images(src_path, on_problem=None if on_error == "raise" else
                        lambda exc: loops.append([os.path.relpath(exc.path, src_path), exc.reason]))
    if not files:
        raise DataError(f"{src_path}: no image files found")
    out_path.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out_path)  # left by a write that was killed
    settings = {"size": size, "dtype": dtype, "shard_mb": shard_mb, "files": _digest(files), "count_files": len(files)}

    state = _load_progress(out_path, settings)
    _read_keys(out_path, state["count"])  # drop keys written after the last checkpoint
    stats = RunningStats.from_dict(state["stats"]) if state.get("stats") else RunningStats()
    skipped: list[list[str]] = state["skipped"]
    shape: Any = tuple(state["shape"]) if state.get("shape") else None
    store: Any = np.dtype(state["dtype"]) if state.get("dtype") else None
    count = state["count"]
    start_file = state["next_file"]

    end_file = len(files) if stop_after is None else min(len(files), start_file + max(0, stop_after))
    writer: Optional[_ShardWriter] = None
    skipped += [item for item in loops if item not in skipped]
    keys_fh = open(out_path / FILES, "a", encoding="utf-8", errors="surrogateescape")
    try:
        for fi in range(start_file, end_file):
            rel = files[fi]
            path = src_path / rel
            try:
                images = _slices(read_image(path, check=True), path)
                if shape is None:
                    shape, store = _pack_format(images[0], size, dtype)
                prepared = _fit_all(path, images, size, shape, store)
            except BadFileError as exc:
                if on_error == "raise":
                    raise
                skipped.append([rel, exc.reason])
                prepared = []
            if prepared and writer is None:
                writer = _ShardWriter(out_path, shape, store, shard_mb, count)
            for k, img in enumerate(prepared):
                writer.write(count, img)
                stats.add(img.astype(np.float32) * np.float32(1.0 / dtype_max(store)))
                keys_fh.write((rel if len(prepared) == 1 else f"{rel}#{k}") + "\n")
                count += 1
            if progress:
                progress(fi + 1, len(files), rel)
            if (fi + 1) % checkpoint_every == 0:
                _checkpoint(out_path, settings, fi + 1, count, shape, store, stats, skipped, writer, keys_fh)
        _checkpoint(out_path, settings, end_file, count, shape, store, stats, skipped, writer, keys_fh)
        if end_file < len(files):
            return {"complete": False, "count": count, "next_file": end_file}
    finally:
        keys_fh.close()
        if writer is not None:
            writer.close()
    return _finish(out_path, src_path, settings, count, shape, store, stats, skipped)


class _ShardWriter:
    """Appends (H, W) images to fixed-capacity raw shards through writable memory maps."""

    def __init__(self, out: Path, shape: tuple[int, int], dtype: np.dtype, shard_mb: int, start: int) -> None:
        self.out, self.shape, self.dtype = out, shape, dtype
        self.per_sample = shape[0] * shape[1] * dtype.itemsize
        self.capacity = max(1, (shard_mb << 20) // self.per_sample)
        self._k: Optional[int] = None
        self._map: Optional[np.memmap] = None
        self._open(start // self.capacity)

    def _open(self, k: int) -> None:
        self.flush()
        path = self.out / shard_name(k)
        nbytes = self.capacity * self.per_sample
        with open(path, "ab") as fh:  # create or grow (sparse) to full capacity
            if fh.tell() < nbytes:
                fh.truncate(nbytes)
        self._map = np.memmap(path, dtype=self.dtype, mode="r+", shape=(self.capacity, *self.shape))
        self._k = k

    def write(self, index: int, img: np.ndarray) -> None:
        k, j = divmod(index, self.capacity)
        if k != self._k:
            self._open(k)
        self._map[j] = img  # type: ignore[index]

    def flush(self) -> None:
        if self._map is not None:
            self._map.flush()

    def close(self) -> None:
        self.flush()
        self._map = None
        self._k = None


def _load_progress(out: Path, settings: dict[str, Any]) -> dict[str, Any]:
    fresh = {"next_file": 0, "count": 0, "skipped": [], "stats": None, "shape": None, "dtype": None}
    path = out / PROGRESS
    if not path.exists():
        for stale in [out / FILES, *out.glob("shard-*.bin")]:
            stale.unlink(missing_ok=True)
        return fresh
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable progress file ({exc}); delete {out} to start over") from None
    if state.get("settings") != settings:
        raise DataError(
            f"{out}: holds an interrupted pack of different files or settings; "
            f"delete the folder or choose another output to start over"
        )
    return state


def _read_keys(out: Path, count: int) -> list[str]:
    """The first ``count`` keys of files.txt; later lines (after the checkpoint) are cut off."""
    path = out / FILES
    if not path.exists() and count == 0:
        return []
    lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()[:count] if path.exists() else []
    if len(lines) != count:
        raise DataError(f"{path}: holds {len(lines)} keys but the checkpoint says {count}; delete {out} to start over")
    write_atomic(path, lambda tmp: tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8",
                                                  errors="surrogateescape"))
    return lines


def _checkpoint(out, settings, next_file, count, shape, store, stats, skipped, writer, keys_fh) -> None:
    if writer is not None:
        writer.flush()
    keys_fh.flush()
    os.fsync(keys_fh.fileno())
    write_text_atomic(out / PROGRESS, json.dumps({
        "settings": settings, "next_file": next_file, "count": count,
        "shape": list(shape) if shape else None, "dtype": store.name if store is not None else None,
        "stats": stats.to_dict() if stats.count else None, "skipped": skipped,
    }, indent=1))


def _finish(out: Path, src: Path, settings, count, shape, store, stats, skipped) -> dict[str, Any]:
    if not count or shape is None or store is None:
        raise DataError(f"{src}: no usable images to pack ({len(skipped)} skipped)")
    per_sample = shape[0] * shape[1] * store.itemsize
    capacity = max(1, (settings["shard_mb"] << 20) // per_sample)
    shards = []
    for k, start in enumerate(range(0, count, capacity)):
        n = min(capacity, count - start)
        path = out / shard_name(k)
        os.truncate(path, n * per_sample)
        shards.append({"file": path.name, "count": n, "blake2b": hash_file(path)})
    for extra in out.glob("shard-*.bin"):
        if extra.name not in {s["file"] for s in shards}:
            extra.unlink()
    keys = (out / FILES).read_text(encoding="utf-8").splitlines()
    sources: list[dict[str, Any]] = []
    for i, key in enumerate(keys):
        name = source_of(key.split("#", 1)[0])
        if sources and sources[-1]["name"] == name:
            sources[-1]["count"] += 1
        else:
            sources.append({"name": name, "start": i, "count": 1})
    index = {
        "format": FORMAT, "version": VERSION, "dtype": store.name, "height": shape[0], "width": shape[1],
        "count": count, "shards": shards, "sources": sources, "stats": stats.summary(),
        "skipped": skipped, "source_root": str(src.resolve()), "files": FILES,
    }
    write_text_atomic(out / INDEX, json.dumps(index, indent=1))
    (out / PROGRESS).unlink(missing_ok=True)
    return index


# --------------------------------------------------------------------------- reading


def inside_pack(root: Path, name: Any, index_path: Path) -> Path:
    """``root / name`` when ``name`` is a plain file name that stays inside the pack folder.

    ``index.json`` is data, not trusted code: a shard entry must not point anywhere else on
    disk (absolute paths, ``..``, sub-folders, links leading out are all refused).
    """
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name \
            or os.path.isabs(name):
        raise DataError(f"{index_path}: file entry {name!r} is not a plain file name inside the pack folder")
    path = root / name
    if path.exists() and not path.resolve().is_relative_to(root.resolve()):
        raise DataError(f"{index_path}: file entry {name!r} leads outside the pack folder ({path.resolve()})")
    return path


class PackedArray:
    """A complete pack opened for reading: zero-copy samples and batched gathers."""

    def __init__(self, root: str | os.PathLike[str], *, verify: bool = False) -> None:
        self.root = Path(root)
        index_path = self.root / INDEX
        if not index_path.exists():
            hint = " (packing was interrupted: rerun `emkit data pack` to finish)" if (self.root / PROGRESS).exists() else ""
            raise DataError(f"{self.root}: not a packed dataset, {INDEX} missing{hint}")
        try:
            self.index = json.loads(index_path.read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"{index_path}: unreadable index ({exc})") from None
        if self.index.get("format") != FORMAT or self.index.get("version") != VERSION:
            raise DataError(f"{index_path}: not an {FORMAT} v{VERSION} index")
        try:
            self._open_shards(index_path, verify)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, DataError):
                raise
            raise DataError(f"{index_path}: malformed index ({type(exc).__name__}: {exc})") from None

    def _open_shards(self, index_path: Path, verify: bool) -> None:
        self.dtype = np.dtype(self.index["dtype"])
        if self.dtype not in (np.uint8, np.uint16):
            raise DataError(f"{index_path}: dtype {self.dtype} is not uint8 or uint16")
        self.shape = (int(self.index["height"]), int(self.index["width"]))
        self.count = int(self.index["count"])
        per_sample = self.shape[0] * self.shape[1] * self.dtype.itemsize
        self.shards: list[np.memmap] = []
        for shard in self.index["shards"]:
            path = inside_pack(self.root, shard["file"], index_path)
            expect = int(shard["count"]) * per_sample
            if not path.exists() or path.stat().st_size != expect:
                got = path.stat().st_size if path.exists() else "missing"
                raise DataError(f"{path}: shard size {got} does not match the index ({expect} bytes)")
            if verify and hash_file(path) != shard["blake2b"]:
                raise DataError(f"{path}: checksum mismatch (the shard is corrupt)")
            # copy-on-write map: writable for torch.from_numpy, never written back
            self.shards.append(np.memmap(path, dtype=self.dtype, mode="c", shape=(shard["count"], *self.shape)))
        self.offsets = np.cumsum([0] + [s["count"] for s in self.index["shards"]])
        if self.offsets[-1] != self.count:
            raise DataError(f"{index_path}: shard counts add up to {self.offsets[-1]}, index says {self.count}")
        files = inside_pack(self.root, self.index.get("files", FILES), index_path)
        self.keys = np.array([line.encode("utf-8", "surrogateescape") for line in
                              files.read_text(encoding="utf-8", errors="surrogateescape").splitlines()],
                             dtype=np.bytes_) if files.exists() else np.array([], dtype=np.bytes_)

    def locate(self, i: int) -> tuple[int, int]:
        k = int(np.searchsorted(self.offsets, i, side="right")) - 1
        return k, i - int(self.offsets[k])

    def sample(self, i: int) -> np.ndarray:
        """Image ``i`` as a zero-copy view into the mapped shard."""
        k, j = self.locate(i)
        return self.shards[k][j]

    def key(self, i: int) -> str:
        return self.keys[i].decode("utf-8", "surrogateescape") if len(self.keys) else str(i)

    def gather(self, indices: Sequence[int], *, pin: bool = False, out: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``(B, 1, H, W)`` tensor of the samples ``indices``, copied straight into ``out``.

        One ``np.take`` per shard touched (a C loop of row copies, no Python per sample).
        ``pin=True`` allocates page-locked memory when CUDA is available (so the copy to
        the GPU can be asynchronous); on CPU-only machines it allocates normally.
        """
        idx = np.asarray(indices, dtype=np.int64)
        b = len(idx)
        if b and (idx.min() < 0 or idx.max() >= self.count):
            raise IndexError(f"sample index out of range for a pack of {self.count}")
        if out is None:
            out = empty_batch((b, 1, *self.shape), _TORCH_DTYPES[self.dtype.name], pin=pin)
        dst = out.numpy().reshape(b, *self.shape)
        shard = np.searchsorted(self.offsets, idx, side="right") - 1
        local = idx - self.offsets[shard]
        if len(self.shards) == 1 or (b and shard.min() == shard.max()):
            k = int(shard[0]) if b else 0
            np.take(self.shards[k], local, axis=0, out=dst)
            return out
        for k in np.unique(shard):
            sel = np.flatnonzero(shard == k)
            dst[sel] = self.shards[int(k)][local[sel]]
        return out


_TORCH_DTYPES = {"uint8": torch.uint8, "uint16": torch.uint16}


def empty_batch(shape: tuple[int, ...], dtype: torch.dtype, *, pin: bool = False) -> torch.Tensor:
    """An uninitialised tensor, in pinned memory when asked for and CUDA is available."""
    if pin and torch.cuda.is_available():
        return torch.empty(shape, dtype=dtype, pin_memory=True)
    return torch.empty(shape, dtype=dtype)
