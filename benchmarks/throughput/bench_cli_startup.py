"""Start-up time of light ``emkit`` commands (``--help``, ``plugins list``, ...).

Each command runs in a fresh interpreter ``--repeats`` times; the table reports the
median wall time and the median CPU time (user + system of the child process). CPU time
is the figure to compare on a shared or loaded machine: it does not grow when other
processes take the cores, while wall time does. A plain ``python -c pass`` row gives the
interpreter's own floor, and the last column the ratio of each command to that floor.

Usage::

    python -m benchmarks.throughput.bench_cli_startup               # 7 runs of each command
    python -m benchmarks.throughput.bench_cli_startup --repeats 15 --command "config show"
    # another checkout (before/after): any command line that starts its emkit CLI
    python -m benchmarks.throughput.bench_cli_startup --emkit "python /tmp/old/launch_emkit.py"
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time

from benchmarks.common import add_dry_run_flag, add_results_flag, report

COMMANDS = ("--help", "plugins list", "run --help", "config show", "data --help")


def time_once(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "COLUMNS": "80"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(argv: list[str], repeats: int) -> tuple[float, float]:
    time_once(argv)  # warm the file-system cache
    runs = [time_once(argv) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--command", action="append", help="emkit arguments (repeatable); default: a fixed set")
    parser.add_argument("--emkit", default=f"{sys.executable} -m emkit", help="how to start emkit (default: %(default)s)")
    add_results_flag(parser, "bench_cli_startup_cpu.txt")
    add_dry_run_flag(parser)
    args = parser.parse_args()
    if args.dry_run:
        args.repeats, args.command = 1, args.command or ["--help"]
    commands = args.command or list(COMMANDS)
    floor_wall, floor_cpu = measure([sys.executable, "-c", "pass"], args.repeats)
    lines = [f"{'command':<24} {'wall s':>8} {'cpu s':>8} {'cpu / python':>13}",
             f"{'python -c pass':<24} {floor_wall:8.3f} {floor_cpu:8.3f} {1.0:13.1f}"]
    for command in commands:
        wall, cpu = measure([*shlex.split(args.emkit), *shlex.split(command)], args.repeats)
        lines.append(f"{'emkit ' + command:<24} {wall:8.3f} {cpu:8.3f} {cpu / max(floor_cpu, 1e-9):13.1f}")
    lines.append(f"(median of {args.repeats} runs each; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
                 "cores)")
    report("\n".join(lines), args.results)


if __name__ == "__main__":
    main()
