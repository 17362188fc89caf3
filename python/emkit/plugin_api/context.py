"""``StepContext``: what the engine hands a pretext/task at every step.

Public plugin API. The engine fills ``step``/``epoch``/``seed`` before each call; plugins
draw every random choice from ``seed`` / ``torch_generator()`` (so a resumed run repeats
it), run forward passes under ``autocast()`` on ``prepare``d tensors, time their data
preparation with ``data_timer()`` and clip gradients with ``clip``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from typing import Callable, ContextManager, Iterable, Iterator

import torch


@dataclasses.dataclass
class StepContext:
    """Per-run settings and per-step state handed to ``training_step`` / ``validation_step``."""

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

