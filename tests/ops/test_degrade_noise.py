"""Noise: deterministic for a seed whatever the thread count, right statistics, no clamping."""

from __future__ import annotations

import math

import pytest
import torch
from emkit.ops import DegradeRanges, degrade_pair, sample_degrade_params


def flat(b: int, side: int, value: float, noise: float = 0.0, dose: float = 0.0):
    x = torch.full((b, 1, side, side), value)
    p = torch.zeros(b, 8)
    p[:, 0] = p[:, 1] = side / 2
    p[:, 3] = 1.0
    p[:, 6], p[:, 7] = noise, dose
    return x, p


@pytest.mark.parametrize("dtype", [torch.uint8, torch.uint16, torch.float32])
def test_bit_identical_for_any_thread_count(cpu_isa, images, torch_threads, dtype):
    """6 planes: one thread works plane by plane (row-pair copies), more split planes into bands."""
    x = images((3, 2, 70, 90), dtype)
    ranges = DegradeRanges(blur_prob=0.6, noise_prob=0.9, dose_prob=0.5)
    p = sample_degrade_params(3, (70, 90), (67, 75), ranges, generator=torch.Generator().manual_seed(0))
    outs = []
    for threads in (1, 2, 3):
        torch_threads(threads)
        outs.append(degrade_pair(x, p, (67, 75), 123456789))
    for other in outs[1:]:
        assert torch.equal(outs[0][0], other[0]) and torch.equal(outs[0][1], other[1])


def test_seed_controls_the_noise():
    x, p = flat(2, 32, 0.5, noise=0.1, dose=20.0)
    a = degrade_pair(x, p, (32, 32), 1)[1]
    assert torch.equal(a, degrade_pair(x, p, (32, 32), 1)[1])
    assert not torch.equal(a, degrade_pair(x, p, (32, 32), 2)[1])
    assert not torch.equal(a, degrade_pair(x, p, (32, 32), 2**64 - 1)[1])


def test_gaussian_noise_statistics(cpu_isa):
    x, p = flat(2, 256, 0.5, noise=0.1)
    clean, degraded = degrade_pair(x, p, (256, 256), 7)
    z = ((degraded - clean) / 0.1).double().flatten()
    n = z.numel()
    assert abs(z.mean().item()) < 5 / math.sqrt(n)
    assert abs(z.std().item() - 1) < 5 / math.sqrt(2 * n)
    inside = (z.abs() < 1).double().mean().item()
    assert abs(inside - 0.682689) < 5 * math.sqrt(0.2166 / n)
    tail = (z.abs() > 3).double().mean().item()
    assert abs(tail - 0.0026998) < 5 * math.sqrt(0.0027 / n)
    # samples, and neighbouring pixels, are independent
    z2 = z.view(2, -1)
    assert abs(torch.corrcoef(z2)[0, 1].item()) < 5 / math.sqrt(n / 2)
    assert abs(torch.corrcoef(torch.stack([z[:-1], z[1:]]))[0, 1].item()) < 5 / math.sqrt(n)


@pytest.mark.parametrize("rate", [0.3, 2.0, 9.99, 10.0, 30.0, 1e4])
def test_poisson_statistics(cpu_isa, rate):
    """Inversion below a mean of 10, PTRS from 10 up: both must give Poisson(rate) counts."""
    dose = 40.0
    x, p = flat(1, 256, rate / dose, dose=dose)
    _, degraded = degrade_pair(x, p, (256, 256), 11)
    counts = degraded.double().flatten() * dose
    assert (counts - counts.round()).abs().max().item() < 1e-3 * max(1.0, rate / 1e3)
    counts = counts.round()
    n = counts.numel()
    assert counts.min().item() >= 0
    assert abs(counts.mean().item() - rate) < 5 * math.sqrt(rate / n)
    assert abs(counts.var().item() - rate) < 5 * math.sqrt((2 * rate * rate + rate) / n)
    if rate < 10:  # the probability of zero counts, exactly e^-rate
        p0 = math.exp(-rate)
        assert abs((counts == 0).double().mean().item() - p0) < 5 * math.sqrt(p0 * (1 - p0) / n) + 1e-6


def test_poisson_then_gaussian_and_no_clamping():
    x, p = flat(1, 256, 0.6, noise=0.3, dose=10.0)
    clean, degraded = degrade_pair(x, p, (256, 256), 5)
    d = degraded.double()
    n = d.numel()
    assert abs(d.mean().item() - 0.6) < 5 * math.sqrt((0.06 + 0.09) / n)
    assert abs(d.var().item() - (0.6 / 10 + 0.09)) < 0.01
    assert d.min().item() < 0.0 and d.max().item() > 1.0  # documented: no clamping
    assert torch.equal(clean, x)


def test_negative_intensity_counts_as_zero_dose():
    x, p = flat(1, 16, -0.5, dose=100.0)
    assert torch.equal(degrade_pair(x, p, (16, 16), 1)[1], torch.zeros(1, 1, 16, 16))
