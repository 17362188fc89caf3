"""Philox4x32-10 random fill: the small real kernel that proves the CPU/CUDA build chain.

Every emkit kernel that needs randomness uses the same counter layout (see
``csrc/include/emkit/philox.h``): word ``i`` of a fill is word ``i % 4`` of
``philox(seed, stream, offset + i // 4)``, identical on every device and thread count.
"""

from __future__ import annotations

import torch

from emkit.ops._backend import native


def philox4x32_10(counter: tuple[int, int, int, int], key: tuple[int, int]) -> tuple[int, ...]:
    """One Philox4x32-10 block (four 32-bit words) for ``counter`` under ``key``."""
    return tuple(native().philox4x32_10(list(counter), list(key)))


def philox_uint32(
    n: int,
    seed: int,
    *,
    stream: int = 0,
    offset: int = 0,
    device: torch.device | str = "cpu",
    threads: int = 0,
) -> torch.Tensor:
    """Return ``n`` random 32-bit words as an int64 tensor holding values in [0, 2**32).

    ``threads`` (CPU only) sets the OpenMP thread count; 0 uses the default. The result
    does not depend on it, nor on the device.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    device = torch.device(device)
    out = torch.empty(n, dtype=torch.int32, device=device)
    if n:
        if device.type == "cpu":
            native().philox_fill_cpu(out.data_ptr(), n, seed, stream, offset, threads)
        elif device.type == "cuda":
            from emkit.ops._backend import has_cuda_kernels

            if not has_cuda_kernels():
                from emkit.errors import BackendError

                raise BackendError("emkit._C was built without CUDA (EMKIT_CUDA=OFF or no nvcc)")
            with torch.cuda.device(device):
                handle = torch.cuda.current_stream(device).cuda_stream
                native().philox_fill_cuda(out.data_ptr(), n, seed, stream, offset, handle)
        else:
            raise ValueError(f"device must be cpu or cuda, got {device}")
    return out.to(torch.int64) & 0xFFFFFFFF
