"""backend_info() reports how emkit._C was built and whether CUDA can run."""

from __future__ import annotations

import shutil

import torch

from emkit.ops import backend_info


def test_reports_build_facts():
    info = backend_info()
    assert info["cxx"] in {"C++17", "C++20", "C++23"}
    assert isinstance(info["openmp"], bool) and info["openmp_threads"] >= 1
    assert isinstance(info["cuda_compiled"], bool)
    # A device is usable only when compiled in and torch sees one.
    assert info["cuda_device_usable"] == (info["cuda_compiled"] and torch.cuda.is_available() and info["cuda_device"] is not None)
    if not info["cuda_device_usable"]:
        assert info["cuda_reason"]


def test_cuda_compiled_when_nvcc_is_available():
    """A default (EMKIT_CUDA=AUTO) build on a machine with nvcc compiles the CUDA kernels."""
    import os

    if os.environ.get("EMKIT_CUDA", "AUTO").upper() == "OFF" or shutil.which("nvcc") is None:
        import pytest

        pytest.skip("build without CUDA requested or nvcc not on PATH")
    assert backend_info()["cuda_compiled"]


def test_backend_facts_are_queried_once():
    """has_cuda_kernels()/cuda_usable() run on every CUDA launch: no device query each time."""
    from emkit.ops import _backend

    _backend.build_info()
    misses = _backend.build_info.cache_info().misses
    for _ in range(5):
        _backend.has_cuda_kernels()
        _backend.cuda_usable()
        backend_info()
    assert _backend.build_info.cache_info().misses == misses


def test_usable_reflects_emkits_own_runtime():
    """cuda_device_usable needs emkit's runtime to find a device, not just torch."""
    from emkit.ops import _backend

    info = backend_info()
    raw = _backend.build_info()
    if info["cuda_compiled"] and raw["cuda_device_count"] == 0:
        assert not info["cuda_device_usable"]
        assert "emkit's CUDA runtime cannot run here" in info["cuda_reason"]
    assert ("ops_mode" in info) and isinstance(info["ops"], dict)


def test_failed_device_query_leaves_no_stale_error():
    import pytest
    from emkit.errors import BackendError
    from emkit.ops import _backend

    if not backend_info()["cuda_compiled"]:
        pytest.skip("built without CUDA")
    if _backend.build_info()["cuda_device_count"] > 0:
        pytest.skip("emkit's runtime can use a device here")
    with pytest.raises(BackendError, match="cannot use device 0"):
        _backend.device_capability(0)
    # Nothing else lingers: a runtime that cannot initialise reports that on every call.
    assert _backend.native().cuda_clear_error() in ("", _backend.build_info()["cuda_error"])
