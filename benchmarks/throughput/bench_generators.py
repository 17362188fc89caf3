"""Training throughput of the built-in generators: the nine U-Net presets and HRNet.

For each network: parameters, receptive field, forward GFLOPs per image and
forward+backward images/s at ``--size``² (default 256) on the current device. On CUDA
the step runs under bf16 autocast with channels_last tensors (how ``emkit run`` trains
on a GPU); on CPU in fp32 with a small batch, plus the process CPU seconds per step,
which stay comparable on a shared machine where wall-clock images/s do not
(``--threads 1`` makes them the cost on one core).

    python -m benchmarks.throughput.bench_generators                 # print the table
    python -m benchmarks.throughput.bench_generators --results   # also write benchmarks/results/bench_generators_<device>.txt
    python -m benchmarks.throughput.bench_generators --only U-Net_2  # a subset (substring match)
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import os
import re
import statistics
import time
from typing import Any

import torch

from benchmarks.common import add_dry_run_flag, add_results_flag, write_results

from emkit.models import build_generator
from emkit.models.summary import count_parameters, forward_flops
from emkit_builtin.generators.unet_rf import PRESETS


def networks() -> list[tuple[str, str, dict[str, Any]]]:
    """(label, plugin name, config) of every benchmarked network, default widths."""
    rows = [(f"U-Net_{b}_{rf}", "unet", {"blocks": b, "rf": rf}) for b in sorted(PRESETS) for rf in sorted(PRESETS[b])]
    return rows + [("HRNetV2-W18-small-v2", "hrnet", {})]


def device_label(device: torch.device) -> str:
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return "cuda-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return device.type


def time_training_steps(gen: torch.nn.Module, x: torch.Tensor, warmup: int, steps: int) -> tuple[float, float]:
    """(wall, process CPU) seconds per forward+backward step, medians of ``steps`` steps.

    The median keeps one step slowed by another process from skewing the row; the
    CPU time (all threads of this process) is what the step costs, even on a shared
    machine where the wall time also counts waiting for a core.
    """
    cuda = x.device.type == "cuda"
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else contextlib.nullcontext()

    def step() -> None:
        with autocast:
            y = gen(x)
        y.float().square().mean().backward()
        for p in gen.parameters():
            p.grad = None

    for _ in range(warmup):
        step()
    wall, cpu = [], []
    for _ in range(steps):
        if cuda:
            torch.cuda.synchronize()
        start, start_cpu = time.perf_counter(), time.process_time()
        step()
        if cuda:
            torch.cuda.synchronize()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=None, help="default: 4 on CPU, 32 on CUDA")
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default: 3 on CPU, 20 on CUDA)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps (default: 1 on CPU, 5 on CUDA)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1")
    parser.add_argument("--threads", type=int, default=None, help="CPU intra-op threads (default: torch's)")
    parser.add_argument("--only", default=None, help="benchmark labels containing this substring")
    add_results_flag(parser, "bench_generators_{device}.txt")
    add_dry_run_flag(parser)
    args = parser.parse_args()
    if args.dry_run:
        args.size, args.batch, args.steps, args.warmup, args.device, args.only = 32, 1, 1, 0, "cpu", "U-Net_2_44"

    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    cuda = device.type == "cuda"
    batch = args.batch or (32 if cuda else 4)
    steps = args.steps or (20 if cuda else 3)
    warmup = args.warmup if args.warmup is not None else (5 if cuda else 1)
    if cuda:
        torch.backends.cudnn.benchmark = True
    if args.threads:
        torch.set_num_threads(args.threads)

    label = device_label(device)
    lines = [
        f"bench_generators  device={label}  torch={torch.__version__}  python={platform.python_version()}",
        f"input {batch}x1x{args.size}x{args.size}, forward+backward, "
        + ("bf16 autocast, channels_last" if cuda else f"fp32, {torch.get_num_threads()} threads")
        + f", {warmup} warm-up + median of {steps} timed steps"
        + (f", load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs" if not cuda else ""),
        "",
        f"{'network':<22}{'params':>12}{'RF px':>8}{'GFLOPs/img':>12}{'img/s':>10}{'ms/step':>10}"
        + ("" if cuda else f"{'CPU-s/step':>12}"),
    ]
    print("\n".join(lines), flush=True)
    for name, plugin, config in networks():
        if args.only and args.only not in name:
            continue
        torch.manual_seed(0)
        gen = build_generator(plugin, config)
        params, rf = count_parameters(gen), gen.receptive_field
        gflops = forward_flops(gen.eval(), torch.zeros(1, 1, args.size, args.size)) / 1e9
        gen.train().to(device)
        x = torch.randn(batch, 1, args.size, args.size, device=device)
        if cuda:
            gen = gen.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        seconds, cpu_seconds = time_training_steps(gen, x, warmup, steps)
        row = f"{name:<22}{params:>12,}{rf:>8}{gflops:>12.2f}{batch / seconds:>10.1f}{seconds * 1e3:>10.0f}"
        row += "" if cuda else f"{cpu_seconds:>12.2f}"
        lines.append(row)
        print(row, flush=True)
    if args.results:
        write_results(args.results.format(device=label), "\n".join(lines))


if __name__ == "__main__":
    main()
