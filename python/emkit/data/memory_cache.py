"""``data.cache``: keep the decoded samples of a small file-backed dataset in memory.

Reading and decoding (PNG, chunk-compressed HDF5) can dominate the step time of a small
labelled set that is read again every epoch. ``memory`` keeps every decoded sample;
``auto`` (the default) does so when the split's estimated decoded size -- the first
sample's bytes times the number of samples -- is at most ``AUTO_LIMIT_BYTES``; ``none``
never caches. Cached samples are handed out as copies, so in-place augmentation cannot
change the cache. Each DataLoader worker process holds its own cache (with the default
``train.num_workers=0`` there is one, kept for the whole run).
"""

from __future__ import annotations

from typing import Any, Hashable, Optional

import torch

#: Largest estimated split size cached under ``cache=auto``.
AUTO_LIMIT_BYTES = 512 * 2**20
MODES = ("auto", "memory", "none")


def sample_bytes(sample: dict[str, Any]) -> int:
    return sum(v.numel() * v.element_size() for v in sample.values() if isinstance(v, torch.Tensor))


def _copy(sample: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in sample.items()}


class SampleCache:
    """Decoded samples by a stable key; decides once (on the first sample) under ``auto``."""

    def __init__(self, mode: str, n_items: int, limit: int = AUTO_LIMIT_BYTES) -> None:
        self.mode, self.n_items, self.limit = mode, n_items, limit
        self.enabled: Optional[bool] = {"memory": True, "none": False}.get(mode)
        self._store: dict[Hashable, dict[str, Any]] = {}

    def get(self, key: Hashable) -> Optional[dict[str, Any]]:
        hit = self._store.get(key)
        return None if hit is None else _copy(hit)

    def put(self, key: Hashable, sample: dict[str, Any]) -> dict[str, Any]:
        """Remember ``sample`` (when caching is on); returns it for ``return cache.put(...)``."""
        if self.enabled is None:
            self.enabled = sample_bytes(sample) * self.n_items <= self.limit
        if self.enabled:
            self._store[key] = _copy(sample)
        return sample

    def clear(self) -> None:
        self._store.clear()

    def __len__(self) -> int:
        return len(self._store)
