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
