"""What each rank and step sees: the resumable distributed sampler and per-step seeds.

* ``ResumableDistributedSampler``: the data order depends only on (seed, epoch); a run
  resumed mid-epoch skips what it already saw, so it sees exactly the batches an
  uninterrupted run would have seen.
* ``step_seed``: every random choice inside a step depends only on (run seed, rank, step).
"""

from __future__ import annotations

from typing import Iterator

from torch.utils.data import DistributedSampler


def step_seed(base_seed: int, rank: int, step: int, salt: int = 0) -> int:
    """A 63-bit seed from (run seed, rank, step): deterministic and well mixed."""
    x = (base_seed * 0x9E3779B97F4A7C15 + rank * 0xBF58476D1CE4E5B9 + step * 0x94D049BB133111EB + salt) & (2**64 - 1)
    x ^= x >> 31
    x = (x * 0xD6E8FEB86659FD93) & (2**64 - 1)
    x ^= x >> 29
    return x & (2**63 - 1)


class ResumableDistributedSampler(DistributedSampler):
    """Same order as ``DistributedSampler(seed=...)``; skips the first ``start`` indices.

    The order depends only on (seed, epoch), so a resumed run sees exactly the batches an
    uninterrupted run would have seen. With ``passes`` > 1 an epoch is several shuffled
    passes in a row, so a small set can be trained for more steps per epoch.
    """

    def __init__(self, dataset, *, num_replicas: int, rank: int, seed: int, shuffle: bool = True,
                 drop_last: bool = True) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=seed,
                         drop_last=drop_last)
        self.start = 0
        #: Passes over the split per epoch (``train.steps_per_epoch`` beyond one pass).
        self.passes = 1

    def set_start(self, start: int) -> None:
        self.start = start

    def __iter__(self) -> Iterator[int]:
        epoch, indices = self.epoch, []
        for k in range(self.passes):  # pass k is ordered as epoch * passes + k (passes=1: as before)
            self.epoch = epoch * self.passes + k
            indices += list(super().__iter__())
        self.epoch = epoch
        return iter(indices[self.start :])

    def __len__(self) -> int:
        return max(0, self.num_samples * self.passes - self.start)
