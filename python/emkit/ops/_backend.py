"""Lazy access to the native extension ``emkit._C`` and what its CUDA runtime can do here.

Importing it lazily keeps ``import emkit`` working (for listing plugins, reading configs)
even in a broken install, and turns a missing extension into one clear error. Facts that
cannot change within a process (how the extension was built, whether emkit's own static
CUDA runtime can talk to the driver, a device's compute capability) are queried once and
cached: a device query costs milliseconds, a kernel tens of microseconds.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

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


@functools.lru_cache(maxsize=1)
def build_info() -> dict[str, Any]:
    """``emkit._C.build_info()``, queried once per process (it asks the CUDA runtime)."""
    return dict(native().build_info())


def has_cuda_kernels() -> bool:
    """True when ``emkit._C`` was compiled with its CUDA kernels (cached)."""
    return bool(build_info()["cuda_compiled"])


def cuda_unusable_reason() -> str | None:
    """Why emkit's CUDA kernels cannot run in this process, or None when they can.

    Checks, in order: kernels compiled in; emkit's own (static) CUDA runtime finds a device
    on this driver (a runtime newer than the driver fails here with "CUDA driver version is
    insufficient for CUDA runtime version"); torch itself can use CUDA.
    """
    info = build_info()
    if not info["cuda_compiled"]:
        return "emkit was built without CUDA (EMKIT_CUDA=OFF or no nvcc at build time)"
    if int(info["cuda_device_count"]) <= 0:
        err = str(info["cuda_error"]) or "no CUDA device found"
        return f"emkit's CUDA runtime cannot run here: {err}"
    import torch

    if not torch.cuda.is_available():
        return "torch cannot use CUDA (CPU build of torch?)"
    return None


def cuda_usable() -> bool:
    """True when emkit's CUDA kernels are compiled, its runtime works on this driver, and
    torch can use a CUDA device."""
    return cuda_unusable_reason() is None


@functools.lru_cache(maxsize=None)
def device_capability(index: int) -> tuple[int, int]:
    """Compute capability of CUDA device ``index`` as emkit's runtime sees it (cached per device).

    Raises ``BackendError`` with the CUDA error when the runtime cannot use the device; the
    failed query leaves no stale error behind for the next launch.
    """
    if not has_cuda_kernels():
        raise BackendError("emkit._C was built without CUDA (EMKIT_CUDA=OFF or no nvcc)")
    try:
        major, minor = native().cuda_device_capability(int(index))
    except RuntimeError as exc:
        raise BackendError(str(exc)) from None
    return int(major), int(minor)
