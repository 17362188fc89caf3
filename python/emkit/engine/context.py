"""``StepContext``: what the engine hands a pretext/task at every step."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from typing import Callable, ContextManager, Iterable, Iterator

import torch


@dataclasses.dataclass
class StepContext:
    device: torch.device
    autocast: Callable[[], ContextManager]
    channels_last: bool = False
    grad_clip: float | None = None
    #: Global optimisation step (0-based) and epoch.
    step: int = 0
    epoch: int = 0
    #: Seed for this step's random choices; differs per rank and step, fixed on resume.
    seed: int = 0
    #: Seconds spent on data preparation inside the step (degradation), for data-time stats.
    data_seconds: float = 0.0

    def torch_generator(self) -> torch.Generator:
        """A fresh generator on the training device seeded for this step."""
        gen = torch.Generator(device=self.device)
        gen.manual_seed(self.seed)
        return gen

    @contextlib.contextmanager
    def data_timer(self) -> Iterator[None]:
        """Time a block of data preparation (synchronising CUDA so the time is real)."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        start = time.perf_counter()
        yield
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.data_seconds += time.perf_counter() - start

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Move to the memory format the modules use."""
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def clip(self, params: Iterable[torch.nn.Parameter]) -> None:
        if self.grad_clip:
            torch.nn.utils.clip_grad_norm_(list(params), self.grad_clip)


def step_seed(base_seed: int, rank: int, step: int, salt: int = 0) -> int:
    """A 63-bit seed from (run seed, rank, step): deterministic and well mixed."""
    x = (base_seed * 0x9E3779B97F4A7C15 + rank * 0xBF58476D1CE4E5B9 + step * 0x94D049BB133111EB + salt) & (2**64 - 1)
    x ^= x >> 31
    x = (x * 0xD6E8FEB86659FD93) & (2**64 - 1)
    x ^= x >> 29
    return x & (2**63 - 1)
