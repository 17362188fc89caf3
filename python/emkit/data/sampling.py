"""Per-source balanced sampling.

CEM500K-style corpora mix sources of very different sizes (one volume may give 100k
patches, another 500). Pretraining on the raw mix lets the big sources dominate.
``balanced_order`` builds an index map for a map-style dataset in which consecutive
positions cycle through the sources and each source cycles through its own samples in
a seeded order: every source is seen equally often, small sources are repeated, large
ones subsampled, and the dataset length stays the same, so the engine's ordinary
shuffling DataLoader needs no special sampler. ``source_weights`` gives the equivalent
weights for a ``WeightedRandomSampler`` when a caller prefers that.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def source_of(path: str, depth: int = 1) -> str:
    """The source name of a relative path: its first ``depth`` folders ("." at the root)."""
    parts = path.split("/")[:-1]
    return "/".join(parts[:depth]) if parts else "."


def source_ids(sources: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Integer id per sample and the sorted source names."""
    names = sorted(set(sources))
    lookup = {n: i for i, n in enumerate(names)}
    return np.fromiter((lookup[s] for s in sources), dtype=np.int64, count=len(sources)), names


def balanced_order(ids: np.ndarray, seed: int = 0) -> np.ndarray:
    """Index map of ``len(ids)`` positions drawing the sources in turn (see module doc)."""
    n = len(ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng([seed, 0x5EED])
    groups = [np.flatnonzero(ids == s) for s in np.unique(ids)]
    groups = [rng.permutation(g) for g in groups]
    k = len(groups)
    pos = np.arange(n)
    which = pos % k
    rank = pos // k
    out = np.empty(n, dtype=np.int64)
    for s, g in enumerate(groups):
        sel = which == s
        out[sel] = g[rank[sel] % len(g)]
    return out


def source_weights(ids: np.ndarray) -> np.ndarray:
    """Sampling weight per sample so that every source has the same total weight."""
    counts = np.bincount(ids)
    return (1.0 / counts[ids]).astype(np.float64)
