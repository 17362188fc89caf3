"""Fixtures for the native-op tests: CPU code paths, thread counts, random inputs."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch
from emkit.ops._backend import native


@pytest.fixture(params=["avx2", "generic"])
def cpu_isa(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test once per CPU code path (the AVX2 one only where the CPU has it)."""
    monkeypatch.delenv("EMKIT_CPU_ISA", raising=False)
    if request.param == "avx2" and native().degrade_cpu_isa() != "avx2":
        pytest.skip("this CPU (or build) has no AVX2 path")
    monkeypatch.setenv("EMKIT_CPU_ISA", request.param)
    assert native().degrade_cpu_isa() == request.param
    yield request.param


@pytest.fixture
def torch_threads() -> Iterator[Callable[[int], None]]:
    """Setter for torch's CPU thread count (which the kernels use), restored afterwards."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def random_images(shape: tuple[int, ...], dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    """Random images covering the dtype's range (floats in [0, 1])."""
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.float32:
        return torch.rand(shape, generator=g)
    high = 256 if dtype == torch.uint8 else 65536
    return torch.randint(0, high, shape, generator=g, dtype=torch.int64).to(dtype)


@pytest.fixture
def images() -> Callable[..., torch.Tensor]:
    return random_images
