"""CUDA kernel against the CPU kernel: same inputs, parameters and seed, noise included."""

from __future__ import annotations

import pytest
import torch
from emkit.ops import (
    DegradeRanges,
    degrade_pair,
    sample_degrade_params,
    warp_and_degrade,
)
from emkit.ops._backend import cuda_unusable_reason, cuda_usable

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda_usable(), reason=f"CUDA not usable: {cuda_unusable_reason()}"),
]

RANGES = DegradeRanges(scale=(0.6, 1.8), blur_prob=0.7, sigma=(0.3, 4.0), noise_prob=0.8, dose_prob=0.4,
                       dose=(3.0, 300.0))


def check(cpu: torch.Tensor, gpu: torch.Tensor) -> None:
    err = (cpu.double() - gpu.cpu().double()).abs()
    # Poisson counts may differ by one where a rate sits within float rounding of a boundary.
    assert (err > 1e-4).double().mean().item() <= 1e-4, err.max().item()


@pytest.mark.parametrize("dtype", [torch.uint8, torch.uint16, torch.float32])
@pytest.mark.parametrize(("in_shape", "out_hw"), [((5, 2, 130, 97), (101, 131)), ((3, 1, 40, 36), (150, 70))])
def test_cuda_matches_cpu(images, dtype, in_shape, out_hw):
    x = images(in_shape, dtype)
    p = sample_degrade_params(in_shape[0], in_shape[2:], out_hw, RANGES, generator=torch.Generator().manual_seed(2))
    p[0, 0] += 3 * in_shape[3]  # far outside: several reflections
    seed = 2**63 + 12345
    for out_dtype in (torch.float32, torch.bfloat16):
        c_cpu, d_cpu = degrade_pair(x, p, out_hw, seed, out_dtype=out_dtype)
        c_gpu, d_gpu = degrade_pair(x.cuda(), p.cuda(), out_hw, seed, out_dtype=out_dtype)
        assert c_gpu.device.type == "cuda" and c_gpu.dtype == out_dtype
        if out_dtype == torch.float32:
            check(c_cpu, c_gpu)
            check(d_cpu, d_gpu)
        else:  # at most one bf16 ulp apart where the float results straddle a rounding boundary
            for a, b in ((c_cpu, c_gpu), (d_cpu, d_gpu)):
                a, b = a.float(), b.cpu().float()
                ulp = 2.0 ** (torch.floor(torch.log2(a.abs().clamp(min=2**-100))) - 7)
                assert ((a - b).abs() > ulp).double().mean().item() <= 1e-4


def test_cuda_channel_flags_match_cpu(images):
    x = images((3, 3, 64, 64), torch.float32)
    p = sample_degrade_params(3, (64, 64), (48, 40), RANGES, generator=torch.Generator().manual_seed(5))
    flags = dict(degrade_channels=[True, False, False], nearest_channels=[False, False, True])
    check(warp_and_degrade(x, p, (48, 40), 9, **flags), warp_and_degrade(x.cuda(), p.cuda(), (48, 40), 9, **flags))


def test_cuda_runs_on_the_current_stream(images):
    x = images((4, 1, 96, 96), torch.uint8).cuda()
    p = sample_degrade_params(4, (96, 96), (64, 64), RANGES, device="cuda")
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())  # inputs were made on the default stream
    with torch.cuda.stream(stream):
        clean, degraded = degrade_pair(x, p, (64, 64), 1)
    stream.synchronize()
    ref = degrade_pair(x.cpu(), p.cpu(), (64, 64), 1)
    check(ref[0], clean)
    check(ref[1], degraded)


def test_cuda_self_check_passes_and_native_runs():
    from emkit.ops import backend_info, dispatch

    dispatch.reset()
    x = torch.randint(0, 256, (2, 1, 64, 64), dtype=torch.uint8, device="cuda")
    p = sample_degrade_params(2, (64, 64), (48, 48), RANGES, device="cuda")
    degrade_pair(x, p, (48, 48), 3)
    key = f"cuda:{torch.cuda.current_device()}"
    assert backend_info()["ops"][key] == "native", backend_info()["ops"]


def test_cuda_seed_in_device_memory_matches_int_seed(images):
    x = images((3, 1, 70, 60), torch.uint8).cuda()
    p = sample_degrade_params(3, (70, 60), (40, 44), RANGES, generator=torch.Generator().manual_seed(8)).cuda()
    seed = torch.tensor(2**62 + 5, dtype=torch.int64, device="cuda")
    a = degrade_pair(x, p, (40, 44), seed)[1]
    b = degrade_pair(x, p, (40, 44), 2**62 + 5)[1]
    assert torch.equal(a, b)
    seed.add_(1)
    assert not torch.equal(degrade_pair(x, p, (40, 44), seed)[1], a)


def test_cuda_nan_geometry_matches_cpu(images):
    x = images((3, 2, 40, 36), torch.uint8)
    p = sample_degrade_params(3, (40, 36), (30, 28), RANGES, generator=torch.Generator().manual_seed(9))
    for column in range(4):
        q = p.clone()
        q[0, column] = float("nan")
        for a, b in zip(degrade_pair(x, q, (30, 28), 4), degrade_pair(x.cuda(), q.cuda(), (30, 28), 4)):
            check(a, b)


def test_reference_path_on_cuda_matches_native(images, monkeypatch):
    from emkit.ops import dispatch

    x = images((2, 1, 50, 50), torch.uint8).cuda()
    p = sample_degrade_params(2, (50, 50), (32, 32), RANGES, generator=torch.Generator().manual_seed(1)).cuda()
    native = degrade_pair(x, p, (32, 32), 6)
    monkeypatch.setenv("EMKIT_OPS", "reference")
    dispatch.reset()
    try:
        ref = degrade_pair(x, p, (32, 32), 6)
    finally:
        monkeypatch.delenv("EMKIT_OPS")
        dispatch.reset()
    check(native[0].cpu(), ref[0])
    check(native[1].cpu(), ref[1])
