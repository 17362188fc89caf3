"""Shared ``DataSource`` plumbing of the synthetic datasets: lengths, seeds, caching.

Sample ``i`` of split ``s`` is rendered from ``rng_for(seed, generator, s, i)``: the same
on every machine and in every DataLoader worker, independent of access order, and the
three splits never share an image. ``cache=true`` keeps rendered samples in memory (per
process) for generators that are slower than training wants.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import torch

from emkit.config.ranges import INT64_MAX, ranged
from emkit.errors import DataError
from emkit.interfaces.data_source import DataSource, Sample, Split


@dataclasses.dataclass
class SyntheticConfig:
    #: Samples in the train split; val/test have their own lengths.
    length: int = ranged(2000, 1, 1_000_000_000)
    val_length: int = ranged(100, 0, 1_000_000_000)
    test_length: int = ranged(100, 0, 1_000_000_000)
    #: Side length of the square images in pixels.
    size: int = ranged(256, 16, 8192)
    seed: int = ranged(0, 0, INT64_MAX)
    #: Keep rendered samples in memory (per worker process).
    cache: bool = False


class SyntheticDataset(DataSource):
    """Base: subclasses set ``generator`` (salt of the random streams) and ``render``."""

    Config: ClassVar[type] = SyntheticConfig
    generator: ClassVar[str] = "synthetic"
    min_size: ClassVar[int] = 32

    def __init__(self, config: Any, split: Split = "train") -> None:
        super().__init__(config, split)
        lengths = {"train": config.length, "val": config.val_length, "test": config.test_length}
        if split not in lengths:
            raise DataError(f"Unknown split {split!r}; expected train, val or test")
        self._length = int(lengths[split])
        if self._length < 0:
            raise DataError(f"{self.generator}: length of the {split} split must be >= 0, got {self._length}")
        if config.size < self.min_size:
            raise DataError(f"{self.generator}: size must be at least {self.min_size}, got {config.size}")
        self._cache: dict[int, Sample] = {}

    def __len__(self) -> int:
        return self._length

    def rng(self, index: int) -> np.random.Generator:
        from emkit.data.synthetic.fields import rng_for

        return rng_for(self.config.seed, self.generator, self.split, index)

    def render(self, index: int) -> Sample:
        raise NotImplementedError

    def __getitem__(self, index: int) -> Sample:
        n = self._length
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {self.generator} {self.split} split of {n}")
        index %= n
        if not self.config.cache:
            return self.render(index)
        if index not in self._cache:
            self._cache[index] = self.render(index)
        # hand out copies: a consumer that edits its batch in place must not edit the cache
        return {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in self._cache[index].items()}  # type: ignore[return-value]

    @staticmethod
    def tensor(arr: np.ndarray) -> torch.Tensor:
        """(H, W) -> (1, H, W) tensor owning a contiguous copy."""
        return torch.from_numpy(np.ascontiguousarray(arr).copy()).unsqueeze(0)
