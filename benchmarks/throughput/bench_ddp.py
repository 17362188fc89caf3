"""DDP scaling of pix2pix pretext steps: images/s for 1, 2, 4 processes and the communication share.

For each process count N it launches ``torchrun --standalone --nproc_per_node=N`` with this
module as the worker. Every process builds the pix2pix objective as a run does (DDP-wrapped
generator and discriminator, gloo on the CPU, NCCL on CUDA) and times full training steps
(D + G, Adam) on the same synthetic-cem batch per process. Steps are bracketed by
barriers, so a step lasts as long as its slowest rank. Each step is timed twice, interleaved:
normally and with DDP's gradient all-reduce switched off (``no_sync``); the difference over
the normal step time is the share of the step spent on communication that backward does
not hide. Throughput is the global batch (N x per-process batch) over the median step.

Weak scaling: the per-process batch stays fixed. ``--threads`` lists the intra-op thread
policies to compare (default ``1,auto`` on the CPU): ``1`` keeps one thread per process,
so N processes use N cores (more than the machine has: oversubscribed); ``auto`` gives
each process ``cores // N`` threads (at least one), so N processes share the machine as
one process would use it. Speed-up and efficiency are against the first row (1 process
with the first policy's threads). Every (processes, threads) setting runs one after the
other, repeated in round-robin order ``--rounds`` times (medians across rounds), so
background load spreads over all of them; on a shared machine the numbers are still only
indicative. ``all-reduce ms`` is the step time the gradient all-reduce adds.

    python -m benchmarks.throughput.bench_ddp                          # CPU: 1, 2, 4 processes
    python -m benchmarks.throughput.bench_ddp --device cuda --results  # NCCL: 1..8 GPUs present
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import ROOT, add_dry_run_flag, add_results_flag, report


# ---------------------------------------------------------------- worker (one rank) -----
def no_sync(objective) -> contextlib.ExitStack:
    """DDP's ``no_sync`` on every DDP-wrapped module of ``objective``."""
    from torch.nn.parallel import DistributedDataParallel

    stack = contextlib.ExitStack()
    for name in objective.modules():
        module = objective.net(name)
        if isinstance(module, DistributedDataParallel):
            stack.enter_context(module.no_sync())
    return stack


def timed_step(objective, ctx, batch, step: int, info, sync: bool) -> float:
    """Seconds of one training step, from a barrier to the barrier after it."""
    from emkit.engine.runtime import distributed

    ctx.step, ctx.seed, ctx.data_seconds = step, 1000 + step, 0.0
    distributed.barrier(info)
    t0 = time.perf_counter()
    with contextlib.nullcontext() if sync else no_sync(objective):
        objective.training_step(batch, ctx)
    if ctx.device.type == "cuda":
        torch.cuda.synchronize(ctx.device)
    distributed.barrier(info)
    return time.perf_counter() - t0


def worker(args: argparse.Namespace) -> None:
    """One rank: build the DDP objective, time synced and unsynced steps, rank 0 writes JSON."""
    from benchmarks.throughput.bench_train import cem_batch
    from emkit.config import resolve
    from emkit.engine.loop.objective_setup import build_objective, prepare_objective
    from emkit.engine.runtime import distributed
    from emkit.engine.runtime.devices import channels_last_default

    torch.set_num_threads(int(args.threads))
    info = distributed.init(args.device)
    device = torch.device("cuda", info.local_rank) if args.device == "cuda" else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    torch.manual_seed(0)
    cfg = resolve(["pretext=pix2pix", f"generator={args.generator}", f"pretext.crop={args.crop}", *args.set,
                   f"train.device={device}"])
    objective = build_objective(cfg)
    ctx = prepare_objective(objective, device, precision="auto", ddp=info.enabled,
                            channels_last=channels_last_default(device)).ctx
    batch = cem_batch(args.batch, args.crop, device)
    for i in range(args.warmup):
        timed_step(objective, ctx, batch, i, info, sync=True)
    synced, unsynced = [], []
    for i in range(args.steps):
        synced.append(timed_step(objective, ctx, batch, 2 * i, info, sync=True))
        unsynced.append(timed_step(objective, ctx, batch, 2 * i + 1, info, sync=False))
    if info.is_main:
        Path(args.out).write_text(json.dumps({"step": statistics.median(synced),
                                              "no_sync": statistics.median(unsynced)}))
    distributed.shutdown()


# ---------------------------------------------------------------- launcher -------------
def threads_for(processes: int, policy: str) -> int:
    """Intra-op threads per process: ``auto`` = cores // processes (at least 1), or a number."""
    return max(1, (os.cpu_count() or 1) // processes) if policy == "auto" else int(policy)


def measure(args: argparse.Namespace, processes: int, policy: str) -> dict[str, float]:
    """Run the worker under torchrun with ``processes`` ranks; rank 0's medians."""
    threads = threads_for(processes, policy)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
               "-m", "benchmarks.throughput.bench_ddp", "--worker", "--out", str(out), "--device", args.device,
               "--generator", args.generator, "--crop", str(args.crop), "--batch", str(args.batch),
               "--steps", str(args.steps), "--warmup", str(args.warmup), "--threads", str(threads),
               "--set", *args.set]
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=args.timeout)
        if proc.returncode != 0 or not out.exists():
            raise SystemExit(f"bench_ddp: {processes} process(es) failed:\n{proc.stderr[-3000:]}")
        return {**json.loads(out.read_text()), "threads": threads}


def table(args: argparse.Namespace, results: dict[tuple[int, int], list[dict]]) -> list[str]:
    """The ratio table: medians over rounds; speed-up and efficiency against the first setting."""
    rows, base = [], None
    lines = [f"{'processes':>9} {'threads/proc':>12} {'global batch':>12} {'ms/step':>8} {'img/s':>8} "
             f"{'speed-up':>8} {'efficiency':>10} {'all-reduce ms':>13} {'comm %':>7}"]
    for (n, _threads), runs in results.items():
        step = statistics.median(r["step"] for r in runs)
        extra = max(0.0, step - statistics.median(r["no_sync"] for r in runs))
        rate = n * args.batch / step
        base = base or (n, rate)
        speedup = rate / base[1]
        comm = f"{extra * 1e3:>13.1f} {100 * extra / step:>6.1f}%" if n > 1 else f"{'-':>13} {'-':>7}"
        rows.append(f"{n:>9} {runs[0]['threads']:>12} {n * args.batch:>12} {step * 1e3:>8.1f} {rate:>8.2f} "
                    f"{speedup:>7.2f}x {speedup * base[0] / n:>10.2f} {comm}")
    return lines + rows


def header(args: argparse.Namespace) -> list[str]:
    if args.device == "cuda":
        where = f"{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}, NCCL"
    else:
        where = f"{platform.processor() or 'cpu'}, {os.cpu_count()} cores, gloo"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [f"bench_ddp  device={args.device} ({where})  torch={torch.__version__}  load average at start: {load}",
            f"pix2pix step (D + G, Adam, DDP), {' '.join([args.generator, *args.set])}, batch {args.batch} per "
            f"process, {args.crop}x{args.crop} crops, median of {args.steps} steps after {args.warmup} warm-up, "
            f"medians over {args.rounds} round(s); comm % = (step - step without gradient all-reduce) / step",
            ""]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--processes", default=None, help="comma-separated counts (default: 1,2,4 on the CPU; "
                    "1,2,4,8 up to the GPUs present on CUDA)")
    ap.add_argument("--threads", default=None, help="comma-separated thread policies per process: auto "
                    "(cores // N) or a number (default: 1,auto on the CPU, auto on CUDA)")
    ap.add_argument("--generator", default="unet")
    ap.add_argument("--batch", type=int, default=None, help="per-process batch (default 8 CPU, 64 CUDA)")
    ap.add_argument("--crop", type=int, default=None, help="crop side (default 128 CPU, 256 CUDA)")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per torchrun launch")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="extra config overrides")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    add_results_flag(ap, "bench_ddp_{device}.txt")
    add_dry_run_flag(ap)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return 0
    cuda = args.device == "cuda"
    args.batch = args.batch or (64 if cuda else 8)
    args.crop = args.crop or (256 if cuda else 128)
    counts = [int(x) for x in (args.processes or ("1,2,4,8" if cuda else "1,2,4")).split(",")]
    if cuda:
        counts = [n for n in counts if n <= torch.cuda.device_count()] or [1]
    policies = (args.threads or ("auto" if cuda else "1,auto")).split(",")
    if args.dry_run:
        counts, policies, args.batch, args.crop, args.steps, args.warmup, args.rounds = [2], ["1"], 2, 32, 1, 0, 1
        args.set = [*args.set, "generator.blocks=2", "generator.width=4", "pretext.d_width=8"]
    # (processes, threads) settings; a policy that gives an earlier setting's threads is run once
    settings = list(dict.fromkeys((n, threads_for(n, p)) for p in policies for n in counts))
    results: dict[tuple[int, int], list[dict]] = {s: [] for s in settings}
    for _ in range(args.rounds):
        for n, threads in settings:
            results[(n, threads)].append(measure(args, n, str(threads)))
    lines = header(args) + table(args, results)
    if cuda and counts == [1]:
        lines.append("one GPU present: NCCL scaling needs two or more")
    report("\n".join(lines), args.results, device=args.device)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
