"""The first-use self-check (emkit.ops.self_check) accepts right kernels and rejects wrong ones.

No GPU is needed: the comparison is a pure function of a kernel runner, so it is driven
here by the CPU kernel, by the CPU emulation of the CUDA kernel (tests/ops/cuda_emulator.py:
csrc/cuda/degrade_kernel.cuh compiled unmodified as host C++) and by deliberately broken
copies of that kernel -- each one a one-line change a real bug could make. The child
process that runs the real CUDA kernel is exercised here too (without a GPU its CUDA
error must come back as the reason).
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from cuda_emulator import build, compiler, emulated_runner
from emkit.ops import self_check as S
from emkit.ops._backend import build_info
from emkit.ops.degrade_launch import LaunchCall, launch_native

pytestmark = pytest.mark.skipif(compiler() is None, reason="no C++ compiler for the CUDA emulation")

#: Each a plausible one-line bug; the first three are the ones an earlier self-check missed.
BROKEN = {
    "interior offset": {"const int idx = (iv + static_cast<int>(ftv)) * w + iu + static_cast<int>(ftu);":
                        "const int idx = (iv + static_cast<int>(ftv)) * w + iu + static_cast<int>(ftu) + 1;"},
    "tile x offset": {"warp_tile(in_plane, ka, g, y0, x0, r, nearest, scale, canvas);":
                      "warp_tile(in_plane, ka, g, y0, x0 + (tx > 0), r, nearest, scale, canvas);"},
    "Philox counter": {"degrade::gaussian4(seed, row_id * blocks_per_row + static_cast<uint64_t>(gj / 4), z);":
                       "degrade::gaussian4(seed, row_id * blocks_per_row + static_cast<uint64_t>(q), z);"},
    "clean-only Poisson": {"g.poisson = has_degraded && g.s.dose > 0.0f;": "g.poisson = g.s.dose > 0.0f;"},
    "device seed ignored": {"ka.seed_device != nullptr ? static_cast<uint64_t>(*ka.seed_device) : ka.seed;":
                            "ka.seed;"},
    "scalar tail": {"    if (l < count) store1<kBF16>(base, idx + l, v[l]);":
                    "    if (l < count - (count < 4)) store1<kBF16>(base, idx + l, v[l]);"},
    "nearest rounding": {"floorf(clamp_offset(tu) + 0.5f)": "floorf(clamp_offset(tu))"},
    "blur taps": {"const int taps = 2 * r + 1, ch = kTileH + 2 * r;": "const int taps = 2 * r, ch = kTileH + 2 * r;"},
}


@pytest.fixture(scope="module", autouse=True)
def built_emulators():
    """Compile the emulator and its broken variants two at a time (cached between runs)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(build, [None, *BROKEN.values()]))


def cpu_runner():
    return S.in_process_runner(lambda *fields: launch_native(LaunchCall(*fields)), torch.device("cpu"))


def test_cases_cover_what_a_wrong_kernel_gets_wrong():
    cases = S.check_cases()
    dtypes = {c.images.dtype for c in cases}
    assert dtypes == {torch.uint8, torch.uint16, torch.float32}
    assert {c.out_dtype for c in cases} == {torch.float32, torch.bfloat16}
    assert any(c.clean and not c.degraded for c in cases)  # clean only
    assert any(c.seed_on_device for c in cases)
    assert any(any(c.nearest_channels) for c in cases)
    assert any(not d and not n for c in cases for d, n in zip(c.degrade_channels, c.nearest_channels))
    assert all(c.images.shape[0] > 1 for c in cases)
    assert any(c.size[1] % 4 == 1 or c.size[1] % 4 == 3 for c in cases)  # a partial Philox block of 1 or 3
    assert any(c.size[0] > 64 and c.size[1] > 128 for c in cases)  # 3 x 3 tiles or more
    doses = torch.cat([c.params[:, 7] for c in cases])
    assert ((doses > 0) & (doses * 0.1 < 10)).any() and (doses >= 10).any()  # both Poisson samplers


def test_accepts_the_cpu_kernel():
    assert S.run_self_check(cpu_runner()) is None


@pytest.mark.parametrize("order", ["forward", "reverse"])
def test_accepts_the_emulated_cuda_kernel(order):
    assert S.run_self_check(emulated_runner(order=order)) is None


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_rejects_a_broken_cuda_kernel(name):
    reason = S.run_self_check(emulated_runner(BROKEN[name]))
    assert reason is not None, f"the self-check passed a kernel with a broken {name}"
    assert "\n" not in reason
    print(f"{name}: {reason}")


def test_reason_names_the_case_and_the_error():
    def off(cases):
        out = cpu_runner()(cases)
        out[1].degraded[0, 0, 5, 7] += 0.01
        return out

    reason = S.run_self_check(off)
    assert reason.startswith("uint16 flags, degraded output: max |native - reference| = 0.01")
    assert "(0, 0, 5, 7)" in reason


def test_a_raising_kernel_becomes_the_reason():
    def boom(cases):
        raise RuntimeError("degrade_cuda: an illegal memory access\nwas encountered")

    assert S.run_self_check(boom) == "RuntimeError: degrade_cuda: an illegal memory access was encountered"


def test_child_process_reports_the_cuda_error_without_a_gpu():
    """The real child (emkit._C, no torch) on this GPU-less machine: its CUDA error comes back."""
    if not build_info()["cuda_compiled"] or build_info()["cuda_device_count"] > 0:
        pytest.skip("needs emkit built with CUDA on a machine where CUDA cannot run")
    reason = S.run_self_check(S.child_process_runner(0, timeout=60))
    assert reason.startswith("RuntimeError: self-check process failed (exit 3): RuntimeError: degrade_cuda:")


def test_child_process_crash_and_hang_become_reasons(monkeypatch):
    monkeypatch.setattr(S, "_CHILD_BOOT", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    assert "failed (signal 11)" in S.run_self_check(S.child_process_runner(0))
    monkeypatch.setattr(S, "_CHILD_BOOT", "import time; time.sleep(30)")
    assert "TimeoutExpired" in S.run_self_check(S.child_process_runner(0, timeout=1))


def test_child_never_imports_torch():
    code = "import sys; from emkit import _C; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
