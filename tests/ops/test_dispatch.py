"""Native vs reference selection: forced modes, first-use self-check and the fallback.

A GPU is not needed: the reference path is the same code on every device, so it is
tested here with device="cpu", and the self-check/fallback logic is exercised on the CPU
by adding "cpu" to the self-checked device types and, where needed, replacing the native
launcher with a broken one. (What the self-check catches is tested in test_self_check.py.)
"""

from __future__ import annotations

import warnings

import pytest
import torch
from emkit.errors import ConfigError
from emkit.ops import DegradeRanges, backend_info, degrade_pair, sample_degrade_params, set_ops_mode, warp_and_degrade
from emkit.ops import degrade_launch as L
from emkit.ops import dispatch
from emkit.ops._reference import reference_degrade

RANGES = DegradeRanges(scale=(0.6, 1.8), blur_prob=0.7, sigma=(0.3, 3.0), noise_prob=0.7, dose_prob=0.4,
                       dose=(3.0, 300.0))


@pytest.fixture(autouse=True)
def clean_dispatch(monkeypatch):
    monkeypatch.delenv("EMKIT_OPS", raising=False)
    set_ops_mode(None)
    dispatch.reset()
    yield
    set_ops_mode(None)
    dispatch.reset()


@pytest.fixture
def checked_cpu(monkeypatch):
    """Treat the CPU like a CUDA device: self-checked on first use, fallback on failure."""
    monkeypatch.setattr(dispatch, "SELF_CHECKED", {"cpu", "cuda"})


def inputs(b=3, c=2):
    x = torch.randint(0, 256, (b, c, 30, 26), dtype=torch.int64, generator=torch.Generator().manual_seed(3)).to(torch.uint8)
    p = sample_degrade_params(b, (30, 26), (20, 22), RANGES, generator=torch.Generator().manual_seed(4))
    return x, p


def close(a, b, tol=1e-4, rate=1e-3):
    err = (a.double() - b.double()).abs()
    assert (err > tol).double().mean().item() <= rate, err.max().item()


def test_reference_path_on_cpu_matches_the_native_kernel(monkeypatch):
    x, p = inputs()
    set_ops_mode("native")
    native = degrade_pair(x, p, (20, 22), 11)
    native_flags = warp_and_degrade(x, p, (20, 22), 11, degrade_channels=[True, False], nearest_channels=[False, True])
    native_bf16 = degrade_pair(x, p, (20, 22), 11, out_dtype=torch.bfloat16)[1]
    monkeypatch.setenv("EMKIT_OPS", "reference")
    set_ops_mode(None)
    ref = degrade_pair(x, p, (20, 22), 11)
    ref_flags = warp_and_degrade(x, p, (20, 22), 11, degrade_channels=[True, False], nearest_channels=[False, True])
    ref_bf16 = degrade_pair(x, p, (20, 22), 11, out_dtype=torch.bfloat16)[1]
    assert backend_info()["ops"] == {"cpu": "reference"} and backend_info()["ops_mode"] == "reference"
    for a, b in zip(native, ref):
        close(a, b)
    close(native_flags, ref_flags)
    assert ref_bf16.dtype == torch.bfloat16
    close(native_bf16.float(), ref_bf16.float(), tol=2**-7)


def test_self_check_accepts_the_real_kernel(checked_cpu):
    x, p = inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        degrade_pair(x, p, (20, 22), 5)
    assert dispatch.paths() == {"cpu": "native"}


def test_mismatching_native_falls_back_with_one_warning(checked_cpu, monkeypatch):
    real = L.launch_native

    def off_by_a_bit(call):
        real(call)
        for out in (call.clean, call.degraded):
            if out is not None:
                out.add_(0.01)

    monkeypatch.setattr(L, "launch_native", off_by_a_bit)
    x, p = inputs()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = degrade_pair(x, p, (20, 22), 7)
        degrade_pair(x, p, (20, 22), 8)
    ours = [w for w in caught if "emkit:" in str(w.message)]
    assert len(ours) == 1 and "\n" not in str(ours[0].message) and "max |native - reference|" in str(ours[0].message)
    assert backend_info()["ops"]["cpu"].startswith("reference (uint8 tiles, clean output: max |native - reference|")
    ref = reference_degrade(x, p, (20, 22), 7)
    close(got[0], ref[0], rate=0.0)
    close(got[1], ref[1])


def test_cuda_error_during_self_check_falls_back(checked_cpu, monkeypatch):
    def broken(call):
        raise RuntimeError("degrade_cuda: an illegal memory access was encountered")

    monkeypatch.setattr(L, "launch_native", broken)
    x, p = inputs()
    with pytest.warns(RuntimeWarning, match="illegal memory access"):
        got = warp_and_degrade(x, p, (20, 22), 3, degrade_channels=[False, True])
    close(got, reference_degrade(x, p, (20, 22), 3, degrade_channels=[False, True])[1])


def test_error_after_a_passed_check_falls_back(checked_cpu, monkeypatch):
    x, p = inputs()
    degrade_pair(x, p, (20, 22), 1)
    assert dispatch.paths() == {"cpu": "native"}

    def broken(call):
        raise RuntimeError("degrade_cuda: unspecified launch failure")

    monkeypatch.setattr(L, "launch_native", broken)
    with pytest.warns(RuntimeWarning, match="launch failure"):
        got = degrade_pair(x, p, (20, 22), 2)
    close(got[1], reference_degrade(x, p, (20, 22), 2)[1])
    assert dispatch.paths()["cpu"].startswith("reference (RuntimeError")


def test_forced_native_skips_the_check_and_raises(checked_cpu, monkeypatch):
    calls = []

    def broken(call):
        calls.append(1)
        raise RuntimeError("degrade_cuda: boom")

    monkeypatch.setattr(L, "launch_native", broken)
    monkeypatch.setenv("EMKIT_OPS", "native")
    x, p = inputs()
    with pytest.raises(RuntimeError, match="boom"):
        degrade_pair(x, p, (20, 22), 1)
    assert calls == [1] and dispatch.paths() == {"cpu": "native"}


def test_configured_mode_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("EMKIT_OPS", "native")
    set_ops_mode("reference")
    assert dispatch.ops_mode() == "reference"
    set_ops_mode("auto")
    assert dispatch.ops_mode() == "native"


def test_bad_modes_are_refused(monkeypatch):
    with pytest.raises(ConfigError, match="ops must be one of auto, native, reference"):
        set_ops_mode("fast")
    monkeypatch.setenv("EMKIT_OPS", "gpu")
    with pytest.raises(ConfigError, match="EMKIT_OPS"):
        dispatch.ops_mode()
