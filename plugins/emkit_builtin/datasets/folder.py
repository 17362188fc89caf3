"""``folder``: unlabeled images found recursively under a root (the CEM500K layout).

CEM500K ships one folder per source volume with 224x224 8-bit TIFFs; any tree of
TIFF/PNG/JPEG/HDF5/MRC (and, with the ``em-formats`` extra, DM3/DM4/EMD/SER) files works.
Samples are ``{"image": (1, H, W), "source": relative path}``; 8-bit data stays uint8.
``balance_sources=true`` makes every source folder equally frequent (see
``emkit.data.sampling``), ``stacks`` decides how multi-page files are used.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Literal

import numpy as np

from emkit.config.ranges import ranged
from emkit.data.filedataset import Entry, FileConfig, FileDataset
from emkit.data.readers import IMAGE_EXTENSIONS, BadFileError, as_2d, count_slices, read_image
from emkit.data.geometry import fit
from emkit.data.sampling import balanced_order, source_ids, source_of
from emkit.errors import DataError
from emkit.interfaces.data_source import Sample

#: With stacks=auto, files at least this large are opened to count their slices.
STACK_PROBE_BYTES = 4 << 20


@dataclasses.dataclass
class FolderConfig(FileConfig):
    #: File extensions to use (e.g. [".tif"]); empty: every readable image type.
    extensions: list[str] = dataclasses.field(default_factory=list)
    #: Multi-page files: "all" = every slice is a sample, "first" = first slice only,
    #: "auto" = "all" for files over 4 MiB (small files are taken as single images
    #: without opening them, which keeps scanning 500k-file corpora fast).
    stacks: Literal["auto", "all", "first"] = "auto"
    #: Draw every source folder equally often (sources = first `source_depth` folders).
    balance_sources: bool = False
    source_depth: int = ranged(1, 0, 64)
    #: HDF5 dataset name when the folder holds HDF5 files (None: images/image/data/raw).
    key: str = ""


def _size(path: "os.PathLike[str]") -> int:
    """File size, 0 when it cannot be read (the reader then reports the file when loading it)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class FolderDataset(FileDataset):
    """Unlabeled EM images from a folder tree (pretraining data)."""

    Config = FolderConfig
    dataset_name = "folder"
    provides = ()

    def __init__(self, config: FolderConfig, split="train") -> None:
        super().__init__(config, split)
        self._order = None
        if config.balance_sources and len(self):
            ids, self.sources = source_ids(
                [source_of(self._entries[i].path, config.source_depth) for i in range(len(self))]
            )
            self._order = balanced_order(ids, config.seed)

    def _scan(self) -> list[Entry]:
        cfg = self.config
        exts = frozenset(e.lower() if e.startswith(".") else "." + e.lower() for e in cfg.extensions)
        if self.root.is_file():
            raise DataError(f"folder: data.root {str(self.root)!r} is a file; point it at a folder")
        files = self._list(self.root, exts or IMAGE_EXTENSIONS)
        entries: list[Entry] = []
        for rel in files:
            count = 1
            if cfg.stacks == "all" or (cfg.stacks == "auto" and _size(self.root / rel) >= STACK_PROBE_BYTES):
                try:
                    count = count_slices(self.root / rel, key=cfg.key or None)
                except BadFileError as exc:
                    self._handle(exc)
                    continue
            if count == 1:
                entries.append(Entry(rel, rel, 0))
            else:
                entries.extend(Entry(f"{rel}#{i}", rel, i, alias=rel) for i in range(count))
        return entries

    def _read_raw(self, entry: Entry) -> np.ndarray:
        path = self.root / entry.path
        return as_2d(read_image(path, entry.index, key=self.config.key or None, nan=self.config.nan), path)

    def _load(self, entry: Entry) -> Sample:
        arr = fit(self.normalizer(self._read_raw(entry)), self.config.size)
        return {"image": self._to_tensor(arr), "source": entry.key}

    def __getitem__(self, index: int) -> Sample:
        if self._order is not None:
            n = len(self)
            if not -n <= index < n:
                raise IndexError(f"index {index} out of range for folder {self.split} split of {n}")
            index = int(self._order[index % n])
        return super().__getitem__(index)
