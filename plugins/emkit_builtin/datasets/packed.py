"""``packed``: shards written by ``emkit data pack`` -- the fast path for large corpora.

Samples are zero-copy views of the memory-mapped shards (``np.memmap`` ->
``torch.from_numpy``), uint8/uint16 ``(1, H, W)`` as stored; nothing is decoded or copied
until the DataLoader's collate stacks a batch. ``batch(indices)`` gathers a whole batch
straight into one tensor -- in pinned memory with ``pin_memory=true`` when CUDA is
available -- for loops that fetch by batch. Splits hash the same keys as the ``folder``
dataset, so a pack and its source folder split identically for a given seed.
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

import numpy as np
import torch

from emkit.data.packed import PackedArray
from emkit.data.sampling import balanced_order, source_ids, source_of
from emkit.data.splits import SplitConfig, select_items
from emkit.errors import DataError
from emkit.interfaces.data_source import DataSource, Sample, Split


@dataclasses.dataclass
class PackedConfig(SplitConfig):
    """``root`` is the folder written by `emkit data pack` (it holds index.json)."""

    #: Draw every source (first-level folder of the packed corpus) equally often.
    balance_sources: bool = False
    #: batch() allocates page-locked memory (when CUDA is available) for async copies.
    pin_memory: bool = False
    #: Check every shard's BLAKE2b digest against the index when opening.
    verify: bool = False


class PackedDataset(DataSource):
    """Images from memory-mapped shards (see ``emkit.data.packed``)."""

    Config = PackedConfig
    provides = ()

    def __init__(self, config: PackedConfig, split: Split = "train") -> None:
        super().__init__(config, split)
        if not config.root:
            raise DataError("packed: data.root is not set; point it at the output of `emkit data pack`")
        self.array = PackedArray(config.root, verify=config.verify)
        keys = [self.array.key(i) for i in range(self.array.count)]
        aliases = [k.split("#", 1)[0] for k in keys]
        chosen = select_items(keys, split, config, aliases)
        self._indices = np.asarray(chosen, dtype=np.int64)
        if config.balance_sources and len(chosen):
            ids, self.sources = source_ids([source_of(aliases[i]) for i in chosen])
            self._indices = self._indices[balanced_order(ids, config.seed)]
        if split == "train" and not len(self._indices):
            raise DataError(f"packed: the train split of {config.root} is empty ({self.array.count} samples packed)")

    def __len__(self) -> int:
        return len(self._indices)

    def __getitem__(self, index: int) -> Sample:
        n = len(self._indices)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for packed {self.split} split of {n}")
        i = int(self._indices[index])
        return {"image": torch.from_numpy(self.array.sample(i)).unsqueeze(0), "source": self.array.key(i)}

    def batch(self, indices: Sequence[int], out: Optional[torch.Tensor] = None) -> dict:
        """A whole batch ``{"image": (B, 1, H, W), "source": [...]}`` in one gather.

        With ``pin_memory=true`` (and CUDA present) the images land in page-locked memory,
        ready for ``.to(device, non_blocking=True)``; ``out`` reuses a caller's buffer.
        """
        glob = self._indices[np.asarray(indices, dtype=np.int64)]
        images = self.array.gather(glob, pin=self.config.pin_memory, out=out)
        return {"image": images, "source": [self.array.key(int(i)) for i in glob]}

    @property
    def stats(self) -> dict:
        """Intensity statistics of the whole pack (mean/std/min/max in [0, 1] units)."""
        return dict(self.array.index.get("stats", {}))
