"""``au-hdf5``: the Au nanoparticle HRTEM data of Sytwu/Groschner (HDF5, segmentation).

Each file holds ``images`` (N, 1, H, W) float32 micrographs and ``maps`` (N, C, H, W)
float32 label maps where channel 1 is the particle class (channel 0 background); the
published data is 512x512. ``root`` is one file or a folder of ``.h5``/``.hdf5`` files.
Samples: ``image`` (1, H, W) normalised float32 (``normalize=auto`` -> per-image
percentile stretch, since the stored floats have arbitrary offsets) and ``mask``
(1, H, W) uint8, 1 where ``maps[:, mask_channel] > mask_threshold``.

Split keys are ``file.h5#i``; a split list may also name whole files (``file.h5``), which
is how held-out micrographs are usually separated. Files are opened lazily and once per
worker process (h5py handles must not cross a fork). Reading is chunk-aware: a chunk
holding several images is decompressed once for all of them (``_item``), and with
``data.cache`` (auto for small sets) every decoded sample is kept in memory.
"""

from __future__ import annotations

import dataclasses
import os
from collections import OrderedDict
from typing import Any

import numpy as np

from emkit.config.ranges import ranged
from emkit.data.filedataset import Entry, FileConfig, FileDataset
from emkit.data.geometry import fit
from emkit.data.readers import HDF5_EXTENSIONS, BadFileError, as_2d, check_pixels, fill_nonfinite
from emkit.data.targets import check_kind
from emkit.errors import DataError
from emkit.interfaces.data_source import Sample

#: Decoded HDF5 chunks kept per process (see ``AuHDF5Dataset._item``).
BLOCKS_KEPT = 4


@dataclasses.dataclass
class AuHDF5Config(FileConfig):
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    #: Dataset names inside each file.
    images_key: str = "images"
    maps_key: str = "maps"
    #: Channel of `maps` that marks particles (NCHW maps); ignored for NHW maps.
    mask_channel: int = ranged(1, 0, 1024)
    mask_threshold: float = ranged(0.5, None, None)


class AuHDF5Dataset(FileDataset):
    """Au nanoparticle HRTEM images with particle masks from HDF5 files."""

    Config = AuHDF5Config
    dataset_name = "au-hdf5"
    provides = ("mask",)

    def __init__(self, config: AuHDF5Config, split="train") -> None:
        self._handles: dict[str, Any] = {}
        self._blocks: OrderedDict[tuple[str, str, int], np.ndarray] = OrderedDict()
        self._pid = os.getpid()
        super().__init__(config, split)

    def select_target(self, target: str) -> None:
        check_kind(target, self.dataset_name, ("segmentation",))

    # ------------------------------------------------------------------ scanning

    def _files(self) -> list[str]:
        if self.root.is_file():
            return [self.root.name]
        return self._list(self.root, HDF5_EXTENSIONS)

    def _base(self):
        return self.root.parent if self.root.is_file() else self.root

    def _scan(self) -> list[Entry]:
        import h5py

        entries: list[Entry] = []
        for rel in self._files():
            path = self._base() / rel
            try:
                with h5py.File(path, "r") as fh:
                    n = self._check_layout(fh, path)
            except BadFileError as exc:
                self._handle(exc)
                continue
            except (OSError, ValueError, KeyError) as exc:
                self._handle(BadFileError(path, f"corrupt or truncated HDF5 ({type(exc).__name__}: {exc})"))
                continue
            entries.extend(Entry(f"{rel}#{i}", rel, i, alias=rel) for i in range(n))
        if not entries and not self.problems():
            raise DataError(f"au-hdf5: no HDF5 files (.h5, .hdf5) under {self.root}")
        return entries

    def _check_layout(self, fh: Any, path: Any) -> int:
        cfg = self.config
        for key in (cfg.images_key, cfg.maps_key):
            if key not in fh:
                raise BadFileError(path, f"no dataset {key!r} (found: {', '.join(fh.keys()) or 'none'})")
        images, maps = fh[cfg.images_key], fh[cfg.maps_key]
        if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[1] != 1):
            raise BadFileError(path, f"wrong rank: {cfg.images_key!r} has shape {images.shape}, expected (N, 1, H, W) or (N, H, W)")
        if maps.ndim not in (3, 4):
            raise BadFileError(path, f"wrong rank: {cfg.maps_key!r} has shape {maps.shape}, expected (N, C, H, W) or (N, H, W)")
        if maps.ndim == 4 and not 0 <= cfg.mask_channel < maps.shape[1]:
            raise BadFileError(path, f"mask_channel {cfg.mask_channel} out of range for maps with {maps.shape[1]} channels")
        if images.shape[0] != maps.shape[0] or images.shape[-2:] != maps.shape[-2:]:
            raise BadFileError(path, f"images {images.shape} and maps {maps.shape} do not match")
        return int(images.shape[0])

    # ------------------------------------------------------------------ loading

    def _file(self, rel: str) -> Any:
        import h5py

        if os.getpid() != self._pid:  # forked worker: never reuse the parent's handles
            self._handles, self._pid = {}, os.getpid()
        fh = self._handles.get(rel)
        if fh is None:
            path = self._base() / rel
            try:
                fh = self._handles[rel] = h5py.File(path, "r")
            except OSError as exc:
                raise BadFileError(path, f"cannot open HDF5 ({exc})") from None
        return fh

    def _item(self, rel: str, key: str, index: int) -> np.ndarray:
        """Item ``index`` of dataset ``key``, chunk-aware.

        A chunk-compressed dataset whose chunks hold several items along axis 0 is
        decompressed a whole chunk at a time however little is read; reading items one by
        one then decompresses each chunk once per item. Here the whole chunk's items are
        decoded once and kept (the last ``BLOCKS_KEPT`` chunks), so the neighbours cost
        nothing; unchunked or one-item-per-chunk datasets are read directly.
        """
        ds = self._file(rel)[key]
        chunks = ds.chunks
        if not chunks or chunks[0] <= 1:
            return np.asarray(ds[index])
        start = index - index % chunks[0]
        block = self._blocks.get((rel, key, start))
        if block is None:
            block = np.asarray(ds[start:start + chunks[0]])
            self._blocks[(rel, key, start)] = block
            while len(self._blocks) > BLOCKS_KEPT:
                self._blocks.popitem(last=False)
        else:
            self._blocks.move_to_end((rel, key, start))
        return block[index - start]

    def _read_raw(self, entry: Entry) -> np.ndarray:
        path = self._base() / entry.path
        try:
            arr = self._item(entry.path, self.config.images_key, entry.index)
        except BadFileError:
            raise
        except (OSError, ValueError, KeyError) as exc:
            raise BadFileError(path, f"cannot read image {entry.index} ({type(exc).__name__}: {exc})") from None
        arr = as_2d(arr, path)
        if self.config.nan == "fill":
            arr = fill_nonfinite(arr, f"{path}#{entry.index}")
        try:
            check_pixels(arr, path)
        except BadFileError as exc:
            raise BadFileError(path, f"image {entry.index}: {exc.reason}") from None
        return arr

    def _load(self, entry: Entry) -> Sample:
        cfg = self.config
        path = self._base() / entry.path
        image = self.normalizer(self._read_raw(entry))
        try:
            m = self._item(entry.path, cfg.maps_key, entry.index)
            m = m[cfg.mask_channel] if m.ndim == 3 else m
        except (OSError, ValueError, KeyError) as exc:
            raise BadFileError(path, f"cannot read maps {entry.index} ({type(exc).__name__}: {exc})") from None
        if m.dtype.kind == "f" and not np.isfinite(m).all():
            raise BadFileError(path, f"maps {entry.index}: NaN/Inf values")
        mask = (m > cfg.mask_threshold).astype(np.uint8)
        size = cfg.size
        return {
            "image": self._to_tensor(fit(image, size)),
            "mask": self._to_tensor(fit(mask, size)),
            "source": entry.key,
        }

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_handles"] = {}  # h5py handles cannot be pickled (spawned workers reopen)
        state["_blocks"] = OrderedDict()
        return state

    def close(self) -> None:
        for fh in self._handles.values():
            try:
                fh.close()
            except Exception:  # noqa: BLE001
                pass
        self._handles = {}
        self._blocks.clear()
