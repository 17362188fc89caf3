"""``backend_info()``: what ``emkit._C`` was built with and what this machine can run."""

from __future__ import annotations

from typing import Any

from emkit.ops._backend import build_info, cuda_unusable_reason


def _cxx_standard_name(value: int) -> str:
    for year, macro in ((23, 202302), (20, 202002), (17, 201703), (14, 201402), (11, 201103)):
        if value >= macro:
            return f"C++{year}"
    return f"C++ ({value})"


def backend_info() -> dict[str, Any]:
    """Report the native backend as a plain dict.

    Keys: ``cxx`` (language standard), ``compiler``, ``openmp`` and ``openmp_threads``,
    ``cuda_compiled`` (kernels built into ``emkit._C``), ``cuda_runtime`` (static runtime
    version) and ``cuda_driver`` (driver version, None without a driver),
    ``cuda_device_usable`` (emkit's own runtime finds a device on this driver *and* torch
    sees CUDA), ``cuda_device`` and ``cuda_reason`` (why it is not usable, if not),
    ``ops_mode`` (auto / native / reference, see :mod:`emkit.ops.dispatch`) and ``ops``
    (per device used so far: which implementation of the degradation op ran, and why not
    the native one).
    """
    from emkit.ops import dispatch

    raw = build_info()
    rt = int(raw["cuda_runtime_version"])
    drv = int(raw["cuda_driver_version"])
    reason = cuda_unusable_reason()
    return {
        "version": raw["version"],
        "cxx": _cxx_standard_name(int(raw["cxx_standard"])),
        "compiler": raw["compiler"],
        "openmp": bool(raw["openmp"]),
        "openmp_threads": int(raw["openmp_max_threads"]),
        "cuda_compiled": bool(raw["cuda_compiled"]),
        "cuda_runtime": _cuda_version(rt),
        "cuda_driver": _cuda_version(drv),
        "cuda_device_usable": reason is None,
        "cuda_device": raw["cuda_device_name"] or None,
        "cuda_reason": reason,
        "ops_mode": dispatch.ops_mode(),
        "ops": dispatch.paths(),
    }


def _cuda_version(v: int) -> str | None:
    return f"{v // 1000}.{(v % 1000) // 10}" if v else None
