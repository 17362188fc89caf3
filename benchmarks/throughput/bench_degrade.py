"""Throughput of the fused degradation op against the pipelines it replaces.

For each case (batch x input size -> crop size, uint8 single-channel EM patches) it times
three ways to produce the pretext pair (clean crop, degraded crop):

* ``emkit fused``: :func:`emkit.ops.degrade_pair` (one C++/CUDA pass);
* ``kornia`` (only when kornia is installed): ``kornia.augmentation`` RandomRotation +
  RandomCrop + RandomHorizontalFlip for the clean crop, then RandomGaussianBlur +
  RandomGaussianNoise for the degraded one;
* ``plain torch``: ``affine_grid``/``grid_sample`` with the same parameters, a per-sample
  ``conv2d`` Gaussian blur and ``randn`` noise (benchmarks/degrade_pipelines.py).

Pipelines are run interleaved (one call of each per repeat) so that background load hits
them alike; the table reports the median wall-clock time of a whole call (end to end:
validation, dispatch, allocation, launch, synchronisation) and the ratio to the fused op.
The fused kernel's own time and bandwidth -- CUDA events, back-to-back launches, bytes the
crop actually reads -- are bench_degrade_kernel's.

Usage::

    python -m benchmarks.throughput.bench_degrade                  # CPU, and CUDA when usable
    python -m benchmarks.throughput.bench_degrade --device cpu --repeats 20 --results
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import torch
from benchmarks.common import add_dry_run_flag, add_results_flag, report
from benchmarks.degrade_pipelines import kornia_modules, torch_degrade
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
    modules = kornia_modules(DegradeRanges(), out, x.device)
    if modules is None:
        return None
    geometry, photometric = modules

    def run(step: int) -> object:
        with torch.no_grad():
            clean = geometry(x.float() / 255.0)
            return clean, photometric(clean)

    return run


def torch_pipeline(x: torch.Tensor, params: torch.Tensor, out: int) -> Callable[[int], object]:
    def run(step: int) -> object:
        return torch_degrade(x, params, out)

    return run


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
    return {name: 1e3 * statistics.median(t) for name, t in times.items()}


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
        results.append(((batch, side, out), bench_case(device, batch, side, out, repeats, warmup)))
    names = list(results[0][1])
    col = [f"{b}x1x{s}^2 -> {o}^2" for (b, s, o), _ in results]
    width = max(len(c) for c in col) + 2
    lines.append(f"{'pipeline':<14}" + "".join(f"{c:>{width}}" for c in col))
    for name in names:
        cells = []
        for _, ms in results:
            ratio = ms[name] / ms["emkit fused"]
            cells.append(f"{ms[name]:8.2f} ms ({ratio:4.1f}x)")
        lines.append(f"{name:<14}" + "".join(f"{c:>{width}}" for c in cells))
    lines.append("(end-to-end wall clock of one call; ratio = time / emkit fused time, >1: the fused op is faster)")
    if "kornia" not in names:
        lines.append("(kornia is not installed here: no kornia row)")
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
