"""The CUDA kernel's logic, run on the CPU: csrc/cuda/degrade_*.cuh compiled unmodified as host C++.

tests/ops/cuda_emulator.py builds csrc/cuda/degrade_launch.cuh + degrade_kernel.cuh on a
small shim (fibers for threads, __syncthreads as a barrier across them, shared memory as
one NaN-filled buffer between guard zones, bounds-checked input reads, guarded outputs)
and runs whole launches. These tests compare it with the CPU kernel over random
configurations (tests/ops/emulation_sweep.py, in a child process so that a crash is a
failure, not the end of the test run), on absurd geometry, and on the launch structure;
and check that the emulation itself catches a missing barrier and an out-of-range read.

``EMKIT_EMULATION_CONFIGS`` (default 300, ~25 s on 2 cores) sets the sweep's size.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from cuda_emulator import compiler, emulated_degrade
from emkit.ops import degrade_pair, warp_and_degrade
from emkit.ops._backend import native
from emkit.ops._reference import reference_degrade

pytestmark = pytest.mark.skipif(compiler() is None, reason="no C++ compiler for the CUDA emulation")

SWEEP = Path(__file__).with_name("emulation_sweep.py")
CONFIGS = int(os.environ.get("EMKIT_EMULATION_CONFIGS", "300"))


def test_random_configurations_match_the_cpu_kernel():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(SWEEP), "--configs", str(CONFIGS), "--seed", "7"],
                          capture_output=True, text=True, timeout=900, env=env)
    assert proc.stdout.strip(), f"the sweep died (exit {proc.returncode}): {proc.stderr[-3000:]}"
    summary = json.loads(proc.stdout)
    print(json.dumps({k: v for k, v in summary.items() if k != "failures"}, indent=1))
    assert summary["failures"] == [], "\n".join(summary["failures"][:10])
    assert proc.returncode == 0 and summary["configs"] == CONFIGS
    cov, n = summary["coverage"], CONFIGS
    for key in ("in_uint8", "in_uint16", "in_float32"):
        assert cov[key] >= n // 6, key
    for key in ("out_float32", "out_bfloat16"):
        assert cov[key] >= n // 4, key
    for key in ("clean_only", "degraded_only", "channels_over_16", "seed_on_device", "interior_tiles",
                "poisson_inversion", "poisson_rejection", "nearest_channel"):
        assert cov[key] >= n // 20, key
    assert cov["absurd_geometry"] >= 3 and cov["max_channels_seen"] >= 60
    assert cov["width_not_multiple_of_4"] >= n // 2 and cov["several_tiles"] >= n // 3
    assert cov["border_tiles"] >= n // 2 and summary["order_checks"] >= n // 5
    # Rounding-boundary effects only: a nearest coordinate or a Poisson rate within float
    # rounding of a decision (the sweep includes scales up to 100 and doses up to 1000).
    assert summary["nearest_mismatches"] <= 1e-3 * summary["nearest_pixels"]
    assert summary["poisson_mismatches"] <= 1e-3 * summary["poisson_pixels"]


def test_clean_only_call_writes_the_poisson_samples(images):
    """A clean-only call with Poisson samples: every clean pixel written (was left unwritten)."""
    x = images((3, 2, 70, 90), torch.uint8)
    p = torch.tensor([[40.0, 30.0, 0.3, 1.1, 0.0, 1.0, 0.1, 30.0],
                      [50.0, 40.0, -1.0, 0.9, 1.0, 0.0, 0.0, 0.0],
                      [20.0, 60.0, 2.0, 1.3, 0.0, 2.0, 0.0, 4.0]])
    clean, degraded, stats = emulated_degrade(x, p, (60, 100), 3, degraded=False)
    assert degraded is None and torch.isfinite(clean).all()
    assert (clean - degrade_pair(x, p, (60, 100), 3)[0]).abs().max().item() <= 1e-5
    setup_blocks, plain_blocks = 1, 3 * 2 * 2 * 2
    assert stats.blocks_run == setup_blocks + plain_blocks  # and no Poisson launch at all


def test_poisson_variant_is_one_wave_that_loops(images):
    x = images((4, 1, 64, 64), torch.float32)
    p = torch.tensor([[32.0, 32.0, 0.0, 1.0, 0.0, 0.0, 0.0, dose] for dose in (0.0, 50.0, 0.0, 5.0)])
    clean, degraded, stats = emulated_degrade(x, p, (96, 130), 11, sms=1)  # 3 x 3 tiles per plane
    plain, wave = 4 * 9, 1 * 4  # the Poisson grid: sms x 4 blocks, looping over 2 x 9 tiles
    assert stats.blocks_run == 1 + plain + wave
    ref = degrade_pair(x, p, (96, 130), 11)
    assert torch.equal(clean, ref[0]) or (clean - ref[0]).abs().max() <= 1e-5
    err = (degraded - ref[1]).abs()
    assert err[[0, 2]].max() <= 1e-5 and (err[[1, 3]] > 1e-4).double().mean() <= 1e-3
    no_poisson = p.clone()
    no_poisson[:, 7] = 0.0
    assert emulated_degrade(x, no_poisson, (96, 130), 11, sms=1)[2].blocks_run == 1 + plain + wave  # exit at once


@pytest.mark.parametrize("column", [0, 1, 2, 3])
def test_absurd_geometry_is_clamped_alike(images, column):
    """inf / 1e20 / NaN parameters: emulated CUDA, CPU and reference agree (the shared clamp)."""
    values = [math.inf, -math.inf, 1e20, math.nan] + ([1e6, 0.0] if column == 3 else [])
    base = [30.0, 25.0, 0.4, 1.2, 0.0, 1.5, 0.05, 0.0]
    p = torch.tensor([base[:column] + [v] + base[column + 1:] for v in values], dtype=torch.float32)
    x = images((len(values), 2, 50, 60), torch.float32)
    clean, degraded, _ = emulated_degrade(x, p, (40, 70), 7)
    cpu_clean, cpu_degraded = degrade_pair(x, p, (40, 70), 7)
    ref_clean = reference_degrade(x, p, (40, 70), 7)[0]
    assert torch.isfinite(clean).all() and torch.isfinite(degraded).all()
    assert (cpu_clean.double() - ref_clean).abs().max().item() <= 1e-4
    # The CUDA kernel's float offsets from a double origin: ~2e-6 per unit of scale (<= 1024).
    tol = 1e-4 if column != 3 else 5e-3
    assert (clean - cpu_clean).abs().max().item() <= tol
    assert (degraded - cpu_degraded).abs().max().item() <= tol


def test_channel_flags_match_the_cpu_kernel(images):
    x = images((2, 3, 80, 100), torch.uint16)
    p = torch.tensor([[50.0, 40.0, 0.7, 1.2, 1.0, 2.0, 0.05, 0.0], [-30.0, 150.0, 2.0, 0.8, 0.0, 0.5, 0.0, 0.0]])
    flags = dict(degrade_channels=[True, False, False], nearest_channels=[False, False, True])
    _, got, _ = emulated_degrade(x, p, (70, 99), 5, clean=False, out_dtype=torch.bfloat16, seed_on_device=True, **flags)
    want = warp_and_degrade(x, p, (70, 99), 5, out_dtype=torch.bfloat16, **flags)
    ulp = 2.0 ** (torch.floor(torch.log2(want.float().abs().clamp(min=2**-100))) - 7)
    assert ((got.float() - want.float()).abs() > ulp).double().mean().item() <= 1e-4


def test_planes_of_2_31_pixels_are_refused_before_any_launch():
    """degrade_cuda's own argument check (no GPU needed: it fails before touching CUDA)."""
    if not hasattr(native(), "degrade_cuda"):
        pytest.skip("emkit built without CUDA")
    with pytest.raises(RuntimeError, match="input planes must hold fewer than 2\\^31 pixels"):
        native().degrade_cuda(1, 0, 1, 1, 46341, 46341, 1, 8, 8, 1, 1, 0, 0, [], [], 0, 16, 0)


def test_the_emulation_catches_a_missing_barrier(images):
    """Without the barrier after the warp, threads read canvas cells others have not written."""
    x = images((1, 1, 64, 64), torch.float32)
    p = torch.tensor([[32.0, 32.0, 0.3, 1.0, 0.0, 0.0, 0.0, 0.0]])
    mutation = {"  warp_tile(in_plane, ka, g, y0, x0, r, nearest, scale, canvas);\n  __syncthreads();":
                "  warp_tile(in_plane, ka, g, y0, x0, r, nearest, scale, canvas);"}
    clean = emulated_degrade(x, p, (40, 70), 1, degraded=False, mutations=mutation)[0]
    assert torch.isnan(clean).any()  # the NaN the shared memory was filled with


def test_the_emulation_catches_an_out_of_range_read(images):
    x = images((1, 1, 128, 128), torch.uint8)
    p = torch.tensor([[64.0, 64.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]])  # interior tiles
    mutation = {"const int idx = (iv + static_cast<int>(ftv)) * w + iu + static_cast<int>(ftu);":
                "const int idx = (iv + static_cast<int>(ftv) + 99) * w + iu + static_cast<int>(ftu);"}
    with pytest.raises(RuntimeError, match="out-of-bounds input read"):
        emulated_degrade(x, p, (40, 40), 1, mutations=mutation)
