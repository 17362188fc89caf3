"""Lazy access to the native extension ``emkit._C``.

Importing it lazily keeps ``import emkit`` working (for listing plugins, reading configs)
even in a broken install, and turns a missing extension into one clear error.
"""

from __future__ import annotations

import functools
from types import ModuleType

from emkit.errors import BackendError


@functools.lru_cache(maxsize=1)
def native() -> ModuleType:
    """Return the compiled ``emkit._C`` module or raise a ``BackendError`` saying why not."""
    try:
        from emkit import _C  # type: ignore[attr-defined]
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise BackendError(
            f"emkit's native extension emkit._C could not be imported ({exc}). "
            "Reinstall emkit with `pip install .` (or `pip install -e .`) so it is compiled."
        ) from exc
    return _C


def has_cuda_kernels() -> bool:
    """True when ``emkit._C`` was compiled with its CUDA kernels."""
    return bool(native().build_info()["cuda_compiled"])


def cuda_usable() -> bool:
    """True when the CUDA kernels are compiled *and* torch can use a CUDA device."""
    if not has_cuda_kernels():
        return False
    import torch

    return torch.cuda.is_available()
