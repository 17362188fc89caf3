"""Synthetic dataset speed: milliseconds per sample of each built-in synthetic dataset.

The synthetic datasets render every sample on the fly inside DataLoader workers, so they
must stay far cheaper than a training step: the budget is 5 ms per 256² synthetic-cem
image on one idle core (this replaced a timed unit test; timings belong here). Prints
ms/sample of each dataset side by side with its ratio to synthetic-cem, and cem's ratio
to the budget; single-threaded, best of ``--repeats`` after one warm-up sample (texture
banks, FFT plans).

    python -m benchmarks.throughput.bench_synthetic --results
"""

from __future__ import annotations

import argparse
import time

import torch

from benchmarks.common import add_dry_run_flag, add_results_flag, report

BUDGET_MS = 5.0
DATASETS = {"synthetic-cem": {}, "synthetic-stem": {}, "synthetic-hrtem": {}}


def ms_per_sample(name: str, values: dict, n: int, repeats: int) -> float:
    from emkit.data.build import build_dataset

    ds = build_dataset(name, {"length": n + 1, **values})
    ds[0]  # warm-up: caches
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(1, n + 1):
            ds[i]
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    add_results_flag(ap, "bench_synthetic_cpu.txt")
    add_dry_run_flag(ap)
    args = ap.parse_args()
    if args.dry_run:
        args.samples, args.repeats = 2, 1
    torch.set_num_threads(1)
    lines = [f"{'dataset':<16} {'ms/sample':>10} {'vs cem':>8}   (1 thread, best of {args.repeats} x {args.samples} "
             "samples)"]
    times = {name: ms_per_sample(name, values, args.samples, args.repeats) for name, values in DATASETS.items()}
    for name, ms in times.items():
        lines.append(f"{name:<16} {ms:>10.2f} {ms / times['synthetic-cem']:>7.2f}x")
    lines.append(f"synthetic-cem: {times['synthetic-cem'] / BUDGET_MS:.2f}x its {BUDGET_MS} ms budget")
    report("\n".join(lines), args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
