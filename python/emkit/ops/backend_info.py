"""``backend_info()``: what ``emkit._C`` was built with and what this machine can run."""

from __future__ import annotations

from typing import Any

from emkit.ops._backend import native


def _cxx_standard_name(value: int) -> str:
    for year, macro in ((23, 202302), (20, 202002), (17, 201703), (14, 201402), (11, 201103)):
        if value >= macro:
            return f"C++{year}"
    return f"C++ ({value})"


def backend_info() -> dict[str, Any]:
    """Report the native backend as a plain dict.

    Keys: ``cxx`` (language standard), ``compiler``, ``openmp`` and ``openmp_threads``,
    ``cuda_compiled`` (kernels built into ``emkit._C``), ``cuda_runtime`` (static runtime
    version), ``cuda_device_usable`` (a device answers *and* torch sees CUDA), ``cuda_device``
    and ``cuda_reason`` (why it is not usable, if not).
    """
    raw = native().build_info()
    rt = int(raw["cuda_runtime_version"])
    usable = False
    reason = str(raw["cuda_error"])
    if raw["cuda_compiled"]:
        if int(raw["cuda_device_count"]) > 0:
            import torch

            usable = bool(torch.cuda.is_available())
            reason = "" if usable else "torch cannot use CUDA (CPU build of torch?)"
        elif not reason:
            reason = "no CUDA device found"
    return {
        "version": raw["version"],
        "cxx": _cxx_standard_name(int(raw["cxx_standard"])),
        "compiler": raw["compiler"],
        "openmp": bool(raw["openmp"]),
        "openmp_threads": int(raw["openmp_max_threads"]),
        "cuda_compiled": bool(raw["cuda_compiled"]),
        "cuda_runtime": f"{rt // 1000}.{(rt % 1000) // 10}" if rt else None,
        "cuda_device_usable": usable,
        "cuda_device": raw["cuda_device_name"] or None,
        "cuda_reason": reason or None,
    }
