"""Throughput of the fused degradation op against the pipelines it replaces.

For each case (batch x input size -> crop size, uint8 single-channel EM patches) it times
three ways to produce the pretext pair (clean crop, degraded crop):

* ``emkit fused``: :func:`emkit.ops.degrade_pair` (one C++/CUDA pass);
* ``kornia``: ``kornia.augmentation`` RandomRotation + RandomCrop + RandomHorizontalFlip for
  the clean crop, then RandomGaussianBlur + RandomGaussianNoise for the degraded one;
* ``plain torch``: ``affine_grid``/``grid_sample`` with the same parameters, a per-sample
  ``conv2d`` Gaussian blur and ``randn`` noise.

Pipelines are run interleaved (one call of each per repeat) so that background load hits
them alike; the table reports the median and the ratio to the fused op. On CUDA it also
reports the fused op's effective bandwidth (input bytes read + output bytes written per
second) against a device-to-device copy measured in the same run.

Usage::

    python -m benchmarks.throughput.bench_degrade                  # CPU, and CUDA when usable
    python -m benchmarks.throughput.bench_degrade --device cpu --repeats 20 --results
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from benchmarks.common import add_dry_run_flag, add_results_flag, report
from emkit.ops import DegradeRanges, degrade_pair, sample_degrade_params
from emkit.ops._backend import cuda_usable

CASES = ((16, 512, 448), (64, 256, 256), (128, 224, 224))  # (batch, input side, crop side)
TINY = ((2, 48, 32),)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def emkit_pipeline(x: torch.Tensor, params: torch.Tensor, out: int) -> Callable[[int], object]:
    def run(step: int) -> object:
        return degrade_pair(x, params, (out, out), seed=step)

    return run


def kornia_pipeline(x: torch.Tensor, out: int) -> Callable[[int], object] | None:
    try:
        import kornia.augmentation as K
    except ImportError:
        return None
    ranges = DegradeRanges()
    geometry = torch.nn.Sequential(
        K.RandomRotation(ranges.rotation, p=1.0),
        K.RandomCrop((out, out)),
        K.RandomHorizontalFlip(p=ranges.flip_prob),
    ).to(x.device)
    radius = math.ceil(3 * ranges.sigma[1])
    photometric = torch.nn.Sequential(
        K.RandomGaussianBlur(2 * radius + 1, ranges.sigma, p=ranges.blur_prob),
        K.RandomGaussianNoise(std=sum(ranges.noise) / 2, p=ranges.noise_prob),
    ).to(x.device)

    def run(step: int) -> object:
        with torch.no_grad():
            clean = geometry(x.float() / 255.0)
            return clean, photometric(clean)

    return run


def torch_pipeline(x: torch.Tensor, params: torch.Tensor, out: int) -> Callable[[int], object]:
    """grid_sample warp + grouped conv2d blur + randn noise, driven by the same parameters."""
    b, c, h, w = x.shape
    cx, cy, angle, scale, flip, sigma, noise, _ = params.unbind(1)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    f = 1.0 - 2.0 * flip
    theta = torch.stack(
        [
            torch.stack([cos * f * out / w, -sin * out / w, 2 * cx / w - 1], 1),
            torch.stack([sin * f * out / h, cos * out / h, 2 * cy / h - 1], 1),
        ],
        1,
    )
    grid = F.affine_grid(theta, [b, c, out, out], align_corners=False)
    radius = math.ceil(3 * DegradeRanges().sigma[1])
    k = torch.arange(-radius, radius + 1, device=x.device, dtype=torch.float32)
    s = sigma.clamp(min=1e-3)[:, None]
    taps = torch.exp(-(k[None] ** 2) / (2 * s * s))
    taps = torch.where(sigma[:, None] > 0, taps, (k[None] == 0).float())
    taps = (taps / taps.sum(1, keepdim=True)).repeat_interleave(c, 0)

    def run(step: int) -> object:
        with torch.no_grad():
            clean = F.grid_sample(x.float() / 255.0, grid, mode="bilinear", padding_mode="reflection",
                                  align_corners=False)
            v = F.pad(clean.reshape(1, b * c, out, out), (radius,) * 4, mode="reflect")
            v = F.conv2d(v, taps[:, None, None, :], groups=b * c)
            v = F.conv2d(v, taps[:, None, :, None], groups=b * c).reshape(b, c, out, out)
            degraded = v + noise[:, None, None, None] * torch.randn_like(v)
            return clean, degraded

    return run


def copy_bandwidth(device: torch.device, repeats: int) -> float:
    """Device-to-device copy bandwidth in GB/s (bytes read + written)."""
    src = torch.empty(256 * 2**20, dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    times = []
    for i in range(repeats + 2):
        _sync(device)
        t0 = time.perf_counter()
        dst.copy_(src)
        _sync(device)
        if i >= 2:
            times.append(time.perf_counter() - t0)
    return 2 * src.numel() / statistics.median(times) / 1e9


def bench_case(device: torch.device, batch: int, side: int, out: int, repeats: int, warmup: int):
    gen = torch.Generator(device="cpu").manual_seed(0)
    x = torch.randint(0, 256, (batch, 1, side, side), generator=gen, dtype=torch.uint8).to(device)
    params = sample_degrade_params(batch, (side, side), (out, out), DegradeRanges(),
                                   generator=gen).to(device)
    pipelines = {"emkit fused": emkit_pipeline(x, params, out)}
    kornia = kornia_pipeline(x, out)
    if kornia is not None:
        pipelines["kornia"] = kornia
    pipelines["plain torch"] = torch_pipeline(x, params, out)
    times: dict[str, list[float]] = {name: [] for name in pipelines}
    for rep in range(warmup + repeats):
        for name, fn in pipelines.items():
            _sync(device)
            t0 = time.perf_counter()
            fn(rep)
            _sync(device)
            if rep >= warmup:
                times[name].append(time.perf_counter() - t0)
    ms = {name: 1e3 * statistics.median(t) for name, t in times.items()}
    moved = x.numel() * x.element_size() + 2 * batch * out * out * 4  # read input, write 2 outputs
    return ms, moved


def run(device_name: str, repeats: int, warmup: int, cases=CASES) -> str:
    device = torch.device(device_name)
    lines = []
    header = f"device: {device_name}"
    if device.type == "cpu":
        header += f" ({torch.get_num_threads()} threads)"
    else:
        header += f" ({torch.cuda.get_device_name(device)})"
    lines.append(header + f", median of {repeats} interleaved runs after {warmup} warm-up")
    results = []
    for batch, side, out in cases:
        ms, moved = bench_case(device, batch, side, out, repeats, warmup)
        results.append(((batch, side, out), ms, moved))
    names = list(results[0][1])
    col = [f"{b}x1x{s}^2 -> {o}^2" for (b, s, o), _, _ in results]
    width = max(len(c) for c in col) + 2
    lines.append(f"{'pipeline':<14}" + "".join(f"{c:>{width}}" for c in col))
    for name in names:
        cells = []
        for _, ms, _ in results:
            ratio = ms[name] / ms["emkit fused"]
            cells.append(f"{ms[name]:8.2f} ms ({ratio:4.1f}x)")
        lines.append(f"{name:<14}" + "".join(f"{c:>{width}}" for c in cells))
    lines.append("(ratio = time / emkit fused time; >1 means the fused op is faster)")
    if device.type == "cuda":
        copy_gbs = copy_bandwidth(device, repeats)
        cells = []
        for _, ms, moved in results:
            gbs = moved / (ms["emkit fused"] / 1e3) / 1e9
            cells.append(f"{gbs:7.0f} GB/s ({100 * gbs / copy_gbs:3.0f}%)")
        lines.append(f"{'fused GB/s':<14}" + "".join(f"{c:>{width}}" for c in cells))
        lines.append(f"(effective bandwidth: uint8 input read + 2 float32 outputs written; "
                     f"% of a device-to-device copy at {copy_gbs:.0f} GB/s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all",
                        help="cpu, cuda, or all (cpu plus cuda when usable; default)")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per pipeline (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first (default 2)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's)")
    add_dry_run_flag(parser)
    parser.add_argument("--cases", default=None,
                        help="comma-separated BATCHxSIDExCROP cases, e.g. 64x512x448 (default: the built-in list)")
    add_results_flag(parser, "bench_degrade_{device}.txt")
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    cases = TINY if args.dry_run else CASES
    if args.cases:
        try:
            cases = tuple(tuple(int(v) for v in c.split("x")) for c in args.cases.split(","))
            assert all(len(c) == 3 for c in cases)
        except (ValueError, AssertionError):
            parser.error(f"--cases must look like 64x512x448,16x512x448, got {args.cases!r}")
    devices = ["cpu"] if args.device in ("cpu", "all") else []
    if args.device in ("cuda", "all"):
        if cuda_usable():
            devices.append("cuda")
        elif args.device == "cuda":
            print("CUDA is not usable here (no device or emkit built without CUDA)", file=sys.stderr)
            return 1
    for dev in devices:
        report(run(dev, args.repeats, args.warmup, cases), args.results, device=dev)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
