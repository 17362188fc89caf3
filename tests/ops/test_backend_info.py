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
