"""The fused degradation kernel's own time and bandwidth, with the end-to-end call beside it.

For each case (batch x input side -> crop side, uint8 input, float32 clean + degraded
outputs), with Poisson noise off and on:

* ``kernel``: CUDA events around ``--launches`` back-to-back raw launches
  (``emkit._C.degrade_cuda`` on preallocated outputs, workspace and parameters: the setup
  pass and the tile kernels, no validation, dispatch or allocation), rotating over enough
  input/output sets that they do not stay in L2;
* ``graph``: the same launches captured once in a CUDA graph and replayed (no launch gaps);
* ``end-to-end``: ``emkit.ops.degrade_pair`` calls back to back (the Python API:
  validation, custom-op dispatch, allocation, launch), events around them -- labelled as
  such, it is what a training step sees;
* bytes: **read** = the input pixels the crops touch (every canvas pixel's 2x2 bilinear
  neighbourhood, blur halo included, after reflection, counted once per sample), **written**
  = both outputs;
* ``copy``: a device-to-device copy moving the same bytes (read + written), timed the same
  way; each figure is also given as a fraction of it.

On the CPU (and in ``--dry-run``) it times the CPU kernel with the wall clock instead (no
graph). Usage::

    python -m benchmarks.throughput.bench_degrade_kernel --device cuda --results
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable

import torch

from benchmarks.common import add_dry_run_flag, add_results_flag, report
from emkit.ops import DegradeRanges, degrade_pair, sample_degrade_params
from emkit.ops._backend import native

CASES = ((64, 512, 448), (128, 256, 256), (128, 224, 224))  # (batch, input side, crop side)
TINY = ((2, 48, 40),)
ROTATE_BYTES = 256 * 2**20  # rotate over sets until this much memory is touched (> any L2)


def footprint_bytes(params: torch.Tensor, side: int, out: int) -> int:
    """Input bytes (uint8) the crops read: unique pixels of each sample's canvas footprint."""
    from emkit.ops._reference import blur_radius, geometry, reflect_index

    total = 0
    for row in params.detach().cpu():
        r = blur_radius(float(row[5]))
        cx, cy, c, s, f = geometry(row)
        n = out + 2 * r
        k = torch.arange(n, dtype=torch.float64) + 0.5 - n / 2.0
        x, y = (k * f)[None, :], k[:, None]
        u = torch.floor(cx - 0.5 + c * x - s * y).long()
        v = torch.floor(cy - 0.5 + s * x + c * y).long()
        idx = [reflect_index(v + dy, side) * side + reflect_index(u + dx, side) for dy in (0, 1) for dx in (0, 1)]
        total += int(torch.unique(torch.cat([i.flatten() for i in idx])).numel())
    return total


def make_sets(batch: int, side: int, out: int, poisson: bool, device: torch.device, count: int) -> list[dict]:
    g = torch.Generator().manual_seed(0)
    ranges = DegradeRanges(dose_prob=1.0 if poisson else 0.0)
    sets = []
    for _ in range(count):
        x = torch.randint(0, 256, (batch, 1, side, side), generator=g, dtype=torch.int64).to(torch.uint8)
        p = sample_degrade_params(batch, (side, side), (out, out), ranges, generator=g)
        sets.append({"x": x.to(device), "p": p.to(device),
                     "clean": torch.zeros((batch, 1, out, out), device=device),
                     "degraded": torch.zeros((batch, 1, out, out), device=device)})
    return sets


def raw_launcher(sets: list[dict], out: int, device: torch.device) -> Callable[[int], None]:
    """``launch(i)``: the kernel on set ``i % len(sets)``, nothing else (current CUDA stream)."""
    b, c, h, w = sets[0]["x"].shape
    if device.type == "cpu":
        def launch_cpu(i: int) -> None:
            s = sets[i % len(sets)]
            native().degrade_cpu(s["x"].data_ptr(), 0, b, c, h, w, s["p"].data_ptr(), out, out, s["clean"].data_ptr(),
                                 s["degraded"].data_ptr(), 0, i, [], [], torch.get_num_threads())
        return launch_cpu
    workspace = torch.empty(native().degrade_cuda_workspace_bytes(b), dtype=torch.uint8, device=device)

    def launch_cuda(i: int) -> None:
        s = sets[i % len(sets)]
        native().degrade_cuda(s["x"].data_ptr(), 0, b, c, h, w, s["p"].data_ptr(), out, out, s["clean"].data_ptr(),
                              s["degraded"].data_ptr(), 0, i, [], [], 0, workspace.data_ptr(),
                              torch.cuda.current_stream(device).cuda_stream)
    return launch_cuda


def seconds_per_call(fn: Callable[[int], object], n: int, repeats: int, device: torch.device) -> float:
    """Median over ``repeats`` of (span of ``n`` back-to-back calls) / n: CUDA events, or the wall clock on CPU."""
    for i in range(3):  # warm-up
        fn(i)
    samples = []
    for _ in range(repeats):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for i in range(n):
                fn(i)
            end.record()
            end.synchronize()
            samples.append(start.elapsed_time(end) / 1e3 / n)
        else:
            t0 = time.perf_counter()
            for i in range(n):
                fn(i)
            samples.append((time.perf_counter() - t0) / n)
    return statistics.median(samples)


def graph_seconds(launch: Callable[[int], None], n: int, repeats: int, device: torch.device) -> float | str:
    """Seconds per launch of ``n`` launches captured in one CUDA graph and replayed; why not, if capture fails."""
    if device.type != "cuda":
        return "n/a (CPU)"
    side = torch.cuda.Stream(device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        for i in range(3):
            launch(i)
    torch.cuda.current_stream(device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    try:
        with torch.cuda.graph(graph):
            for i in range(n):
                launch(i)
    except RuntimeError as exc:
        return "capture failed: " + " ".join(str(exc).split())[:80]
    return seconds_per_call(lambda _: graph.replay(), 1, repeats, device) / n


def copy_seconds(nbytes: int, n: int, repeats: int, device: torch.device) -> float:
    """Seconds per device-to-device copy of ``nbytes / 2`` bytes (``nbytes`` read + written), rotating buffers."""
    half = max(nbytes // 2, 1)
    count = max(1, min(16, math.ceil(ROTATE_BYTES / (2 * half))))
    bufs = [(torch.zeros(half, dtype=torch.uint8, device=device), torch.zeros(half, dtype=torch.uint8, device=device))
            for _ in range(count)]  # zeros: pages touched before timing (first-touch faults on the CPU)
    return seconds_per_call(lambda i: bufs[i % count][1].copy_(bufs[i % count][0]), n, repeats, device)


def bench_case(batch: int, side: int, out: int, poisson: bool, device: torch.device, n: int, repeats: int) -> dict:
    per_set = batch * side * side + 2 * batch * out * out * 4
    sets = make_sets(batch, side, out, poisson, device, max(1, min(8, math.ceil(ROTATE_BYTES / per_set))))
    read = footprint_bytes(sets[0]["p"], side, out)
    written = 2 * batch * out * out * 4
    launch = raw_launcher(sets, out, device)
    s0 = sets[0]
    row = {"read": read, "written": written,
           "kernel": seconds_per_call(launch, n, repeats, device),
           "graph": graph_seconds(launch, n, repeats, device),
           "e2e": seconds_per_call(lambda i: degrade_pair(s0["x"], s0["p"], (out, out), i), n, repeats, device),
           "copy": copy_seconds(read + written, n, repeats, device)}
    del sets
    return row


def table(device: torch.device, results: list[tuple[tuple[int, int, int, bool], dict]], n: int, repeats: int) -> str:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    clock = "CUDA events" if device.type == "cuda" else "wall clock"
    lines = [f"device: {device} ({name}); {clock}, median of {repeats} x {n} back-to-back calls after 3 warm-up",
             "", f"{'case':<22} {'Poisson':>7} {'read MB':>8} {'write MB':>8} | {'kernel us':>9} {'GB/s':>6} "
                 f"{'%copy':>6} | {'graph us':>9} {'%copy':>6} | {'e2e us':>9} {'%copy':>6} | {'copy GB/s':>9}"]
    for (b, s, o, poisson), r in results:
        moved = r["read"] + r["written"]
        copy_bw = moved / r["copy"]

        def cells(sec: float | str) -> str:
            if isinstance(sec, str):
                return f"{sec[:16]:>16}"
            return f"{sec * 1e6:>9.1f} {100 * moved / sec / copy_bw:>5.0f}%"

        kernel_bw = moved / r["kernel"] / 1e9
        lines.append(f"{f'{b}x1x{s}^2->{o}^2':<22} {'on' if poisson else 'off':>7} {r['read'] / 1e6:>8.1f} "
                     f"{r['written'] / 1e6:>8.1f} | {r['kernel'] * 1e6:>9.1f} {kernel_bw:>6.1f} "
                     f"{100 * moved / r['kernel'] / copy_bw:>5.0f}% | {cells(r['graph'])} | {cells(r['e2e'])} | "
                     f"{copy_bw / 1e9:>9.1f}")
    lines += ["", "kernel = raw emkit._C launches (setup pass + tile kernels); graph = the same launches in one",
              "CUDA graph; e2e = END-TO-END degrade_pair calls (validation, dispatch, allocation, launch) -- not",
              "the kernel alone; %copy = bandwidth (read MB + write MB over the time) as a fraction of a",
              "device-to-device copy of the same bytes timed the same way; read = input pixels the crops touch."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    ap.add_argument("--launches", type=int, default=50, help="back-to-back calls per timing (default 50)")
    ap.add_argument("--repeats", type=int, default=5, help="timings per figure, median reported (default 5)")
    ap.add_argument("--cases", default=None, help="comma-separated BATCHxSIDExCROP, e.g. 64x512x448")
    add_dry_run_flag(ap)
    add_results_flag(ap, "bench_degrade_kernel_{device}.txt")
    args = ap.parse_args(argv)
    cases = TINY if args.dry_run else CASES
    if args.dry_run:
        args.device, args.launches, args.repeats = "cpu", 2, 1
    if args.cases:
        try:
            cases = tuple(tuple(int(v) for v in c.split("x")) for c in args.cases.split(","))
            assert all(len(c) == 3 for c in cases)
        except (ValueError, AssertionError):
            ap.error(f"--cases must look like 64x512x448,16x512x448, got {args.cases!r}")
    device = torch.device(args.device)
    if device.type == "cuda":
        from emkit.ops._backend import cuda_unusable_reason

        if (why := cuda_unusable_reason()) is not None:
            ap.error(f"CUDA is not usable here: {why}")
    results = [((b, s, o, poisson), bench_case(b, s, o, poisson, device, args.launches, args.repeats))
               for b, s, o in cases for poisson in (False, True)]
    report(table(device, results, args.launches, args.repeats), args.results, device=device.type)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
