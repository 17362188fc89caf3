"""Shared machinery of the file-based dataset plugins: config, splits, errors, normalisation.

A concrete dataset implements ``_scan`` (list its samples as ``Entry`` objects with a
stable key) and ``_load`` (read one entry into a ``Sample``). This base then

* selects the split (hashing the keys with ``seed``, or ``split_files`` lists) and the
  reproducible ``limit`` subset (see ``emkit.data.splits``);
* applies ``on_error``: ``raise`` turns the first bad file into one ``DataError`` naming
  file and problem; ``skip`` records (file, reason) in a log shared by DataLoader workers,
  serves a neighbouring sample instead, and ``problems()`` returns what was skipped;
  ``verify=true`` reads every file up front so a skipped file never appears at all;
* builds the intensity rule (``emkit.data.intensity``) and, for ``normalize=meanstd``
  without given ``mean``/``std``, estimates them from a fixed sample of training files
  (all splits use the same values).

Sample keys are kept in a numpy bytes array rather than a Python list: with forked
DataLoader workers, touching millions of Python strings would copy the pages they live
on into every worker (refcount writes); a numpy array is one object.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar, Literal, Optional

import numpy as np
import torch

from emkit.config.ranges import ranged
from emkit.data.intensity import IntensityConfig, dataset_stats
from emkit.data.memory_cache import SampleCache
from emkit.data.problems import ProblemLog, summarize
from emkit.data.readers import BadFileError, list_images
from emkit.data.splits import SplitConfig, select_items
from emkit.errors import DataError
from emkit.interfaces.data_source import DataSource, Sample, Split

#: How many neighbouring samples ``on_error=skip`` tries before giving up.
MAX_CONSECUTIVE_FAILURES = 32


@dataclasses.dataclass
class FileConfig(IntensityConfig, SplitConfig):
    """Options every file-based dataset understands (CLI keys ``data.<field>``).

    The split fields come from ``SplitConfig``, the normalisation fields from
    ``IntensityConfig`` (the same type ``emkit predict`` reads back from a run).
    """

    #: Centre-crop / reflect-pad every sample to size x size (None: as stored).
    size: Optional[int] = ranged(None, 1, 65536)
    #: "raise": a bad file stops with an error naming it; "skip": it is left out and reported.
    on_error: Literal["raise", "skip"] = "raise"
    #: NaN/Inf pixels: "error" refuses the file, "fill" replaces them with the image median (warns).
    nan: Literal["error", "fill"] = "error"
    #: Read every file of the split when the dataset is built (catches bad files up front).
    verify: bool = False
    #: Keep decoded samples in memory: auto (when the split is under 512 MiB) | memory | none.
    cache: Literal["auto", "memory", "none"] = "auto"


@dataclasses.dataclass(frozen=True)
class Entry:
    """One sample before loading: stable ``key`` (for splits), file(s) and slice."""

    key: str
    path: str
    index: Optional[int] = None
    alias: Optional[str] = None
    extra: tuple[str, ...] = ()


def _encode(text: str) -> bytes:
    """File names may hold bytes that are not UTF-8 (kept as surrogate escapes): round-trip them."""
    return text.encode("utf-8", "surrogateescape")


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class EntryTable:
    """A compact, fork-friendly list of ``Entry`` (numpy bytes arrays, no Python objects)."""

    def __init__(self, entries: list[Entry]) -> None:
        self._key = np.array([_encode(e.key) for e in entries], dtype=np.bytes_)
        self._path = np.array([_encode(e.path) for e in entries], dtype=np.bytes_)
        self._index = np.array([-1 if e.index is None else e.index for e in entries], dtype=np.int64)
        width = max((len(e.extra) for e in entries), default=0)
        self._extra = np.array(
            [[_encode(x) for x in e.extra] + [b""] * (width - len(e.extra)) for e in entries], dtype=np.bytes_
        ).reshape(len(entries), width)

    def __len__(self) -> int:
        return len(self._path)

    def __getitem__(self, i: int) -> Entry:
        idx = int(self._index[i])
        extra = tuple(_decode(x) for x in self._extra[i]) if self._extra.shape[1] else ()
        return Entry(_decode(self._key[i]), _decode(self._path[i]), None if idx < 0 else idx, None, extra)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def filter(self, keep: list[int]) -> "EntryTable":
        out = EntryTable.__new__(EntryTable)
        out._key, out._path, out._index, out._extra = (
            self._key[keep], self._path[keep], self._index[keep], self._extra[keep]
        )
        return out


class FileDataset(DataSource):
    """Base of the file-based datasets; subclasses define ``_scan`` and ``_load``."""

    Config: ClassVar[type] = FileConfig
    #: Name used in messages (the entry-point name of the plugin).
    dataset_name: ClassVar[str] = "dataset"
    #: Files read to estimate mean/std for normalize=meanstd.
    stats_samples: ClassVar[int] = 64

    def __init__(self, config: Any, split: Split = "train") -> None:
        super().__init__(config, split)
        self._log = ProblemLog()
        self._bad: set[int] = set()
        self._shape: Optional[tuple[int, ...]] = None
        self.root = self._check_root(config.root)
        entries = self._scan()
        if not entries:
            raise DataError(f"{self.dataset_name}: no usable images found under {self.root}")
        keys = [e.key for e in entries]
        aliases = [e.alias or e.key for e in entries]
        chosen = self._select(keys, aliases, split)
        self._entries = EntryTable([entries[i] for i in chosen])
        self._cache = SampleCache(config.cache, len(chosen))
        self.normalizer = config.rule()
        if self.normalizer.needs_stats:
            train = [entries[i] for i in (chosen if split == "train" else self._select(keys, aliases, "train"))]
            self.normalizer = self.normalizer.with_stats(*self._estimate_stats(train))
        if config.verify:
            self._verify_all()
        if not self._entries and split == "train":
            raise DataError(
                f"{self.dataset_name}: the train split under {self.root} is empty "
                f"({len(entries)} samples found; check val_fraction/test_fraction/split_files)"
            )

    # ------------------------------------------------------------------ subclass hooks

    def _scan(self) -> list[Entry]:
        raise NotImplementedError

    def _load(self, entry: Entry) -> Sample:
        raise NotImplementedError

    # ------------------------------------------------------------------ construction helpers

    def _check_root(self, root: str) -> Path:
        if not root:
            raise DataError(
                f"{self.dataset_name}: data.root is not set; point it at your data "
                f"(e.g. data={self.dataset_name} data.root=/path/to/data)"
            )
        path = Path(root).expanduser()
        if not path.exists():
            raise DataError(f"{self.dataset_name}: data.root {str(path)!r} does not exist")
        return path

    def _select(self, keys: list[str], aliases: list[str], split: str) -> list[int]:
        return select_items(keys, split, self.config, aliases)

    def _estimate_stats(self, entries: list[Entry]) -> tuple[float, float]:
        order = sorted(range(len(entries)), key=lambda i: entries[i].key)[:: max(1, len(entries) // self.stats_samples)]
        arrays = []
        for i in order[: self.stats_samples]:
            try:
                arrays.append(self._read_raw(entries[i]))
            except BadFileError as exc:
                self._handle(exc)
        if not arrays:
            raise DataError(f"{self.dataset_name}: no readable training image to estimate mean/std from")
        return dataset_stats(arrays, self.config.scale)

    def _read_raw(self, entry: Entry) -> np.ndarray:
        """The unnormalised image of ``entry`` (used for statistics); subclasses may override."""
        from emkit.data.readers import as_2d, read_image

        return as_2d(read_image(self.root / entry.path, entry.index, nan=self.config.nan), self.root / entry.path)

    def _load_checked(self, entry: Entry) -> Sample:
        """``_load`` plus the one-size rule: without ``size`` every image must match the first."""
        sample = self._load(entry)
        if self.config.size is None:
            shape = tuple(sample["image"].shape)
            if self._shape is None:
                self._shape = shape
            elif shape != self._shape:
                raise BadFileError(
                    self.root / entry.path,
                    f"size {shape[-1]}x{shape[-2]} differs from the dataset's {self._shape[-1]}x{self._shape[-2]} "
                    "(set data.size=N to crop/pad every sample to N x N)",
                )
        return sample

    def _verify_all(self) -> None:
        good = []
        for i, entry in enumerate(self._entries):
            try:
                self._load_checked(entry)
                good.append(i)
            except BadFileError as exc:
                self._handle(exc)
        self._entries = self._entries.filter(good)

    def _list(self, folder: Path, extensions: Optional[frozenset[str]] = None) -> list[str]:
        """``list_images`` with loops and unreadable entries handled by ``on_error``."""
        return list_images(folder, extensions, on_problem=self._handle)

    def _handle(self, exc: BadFileError) -> None:
        if self.config.on_error == "raise":
            raise exc
        self._log.add(exc.path, exc.reason)

    # ------------------------------------------------------------------ Dataset API

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, index: int) -> Entry:
        return self._entries[index]

    def __getitem__(self, index: int) -> Sample:
        n = len(self._entries)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {self.dataset_name} {self.split} split of {n}")
        index %= n
        failures = 0
        i = index
        while True:
            if i not in self._bad:
                entry = self._entries[i]
                hit = self._cache.get((entry.key, entry.extra))
                if hit is not None:
                    return hit
                try:
                    return self._cache.put((entry.key, entry.extra), self._load_checked(entry))
                except BadFileError as exc:
                    self._handle(exc)
                    self._bad.add(i)
            failures += 1
            if failures >= min(MAX_CONSECUTIVE_FAILURES, n):
                raise DataError(
                    f"{self.dataset_name}: {failures} consecutive samples failed around index {index}; "
                    + summarize(self.problems())
                )
            i = (i + 1) % n

    def problems(self) -> list[tuple[str, str]]:
        return self._log.items()

    # ------------------------------------------------------------------ tensor helpers

    def _to_tensor(self, arr: np.ndarray) -> torch.Tensor:
        """(H, W) numpy -> (1, H, W) tensor owning its memory."""
        out = np.ascontiguousarray(arr)
        if not out.flags.writeable or isinstance(out, np.memmap):
            out = np.array(out)  # own the pixels: no read-only buffers or open maps in a batch
        return torch.from_numpy(out).unsqueeze(0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dataset_name}, split={self.split!r}, n={len(self)}, root={str(self.root)!r})"
