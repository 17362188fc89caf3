"""One-call GPU check: build for this GPU, run the CUDA tests and the GPU benchmarks, save it all.

On a machine with a CUDA build of torch and nvcc::

    python -m benchmarks.throughput.gpu_check                # ~5-8 min on an H100/H200

1. builds emkit for the local architecture only (``pip install --no-build-isolation
   --no-deps -e .`` with ``EMKIT_CUDA=ON`` and ``EMKIT_CUDA_ARCHITECTURES=<major><minor>-real``
   from the device's compute capability, never "native"; needs scikit-build-core and
   pybind11 in the environment);
2. records ``emkit.ops.backend_info()`` and the ptxas figures of the degradation kernel
   for this architecture (registers, shared memory, spills, blocks/SM);
3. runs the CUDA tests (``pytest -m cuda tests/ops``), including the kernels' first-use
   self-check against the pure-torch reference;
4. ``bench_degrade.py`` on CUDA (the fused op's bandwidth as a fraction of a
   device-to-device copy measured in the same run);
5. ``bench_train.py --preset gpu`` (batch 128, 256², bf16, channels_last) without and
   with ``--compile``: images/s and the data share of step time;
6. ``bench_predict.py`` on CUDA;

and writes each step's output plus a summary under ``benchmarks/results/gpu_<gpu-name>/``.
A failing step is recorded and the others still run; the exit status is 1 if any failed.

``--dry-run`` runs every step on the CPU at tiny sizes (no build, torch.compile disabled)
so the paths and flags are checked in CI without a GPU (tests/benchmarks/test_gpu_check.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"


@dataclass
class Step:
    """One command of the check, with its time limit (seconds) and extra environment."""

    name: str
    argv: list[str]
    timeout: int
    env: dict[str, str] = field(default_factory=dict)


def slug(text: str) -> str:
    """A file-name-safe lower-case name, e.g. 'NVIDIA H200' -> 'nvidia-h200'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def detect_gpu() -> tuple[str, str]:
    """(device name, CMake architecture like '90-real') of CUDA device 0; exits when none."""
    import torch

    if not torch.cuda.is_available():
        sys.exit("gpu_check: torch sees no CUDA device (use --dry-run to check the script on a CPU)")
    major, minor = torch.cuda.get_device_capability(0)
    return torch.cuda.get_device_name(0), f"{major}{minor}-real"


def steps(dry_run: bool, arch: str, out: Path) -> list[Step]:
    """The check's commands; the dry run keeps every script and flag at tiny sizes on the CPU."""
    py = sys.executable
    build_env = {"EMKIT_CUDA": "ON", "EMKIT_CUDA_ARCHITECTURES": arch}
    build = [py, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "-e", str(ROOT)]
    ptxas = [py, "-m", "benchmarks.throughput.ptxas_occupancy", "--arch", "sm_" + arch.split("-")[0], "--results",
             str(out / "ptxas.txt")]
    info = [py, "-c", "import json, emkit.ops as o; print(json.dumps(o.backend_info(), indent=1))"]
    tests = [py, "-m", "pytest", "-q", "-m", "cuda", "-rs", str(ROOT / "tests" / "ops")]
    train = [py, "-m", "benchmarks.throughput.bench_train"]
    if dry_run:
        tiny_train = ["--device", "cpu", "--batch", "2", "--crop", "32", "--steps", "1", "--generators", "unet",
                      "--set", "generator.blocks=2", "generator.width=4", "pretext.d_width=8"]
        return [
            Step("build", [py, "-c", "import sys; print('would run:', sys.argv[1:])", *build], 30, build_env),
            Step("ptxas", [*ptxas, "--dry-run"], 30),
            Step("backend_info", info, 60),
            Step("cuda_tests", tests, 120),
            Step("bench_degrade", [py, "-m", "benchmarks.throughput.bench_degrade", "--device", "cpu", "--dry-run", "--repeats",
                                   "1", "--warmup", "0"], 120),
            Step("bench_train", [*train, *tiny_train], 180),
            Step("bench_train_compile", [*train, *tiny_train, "--compile"], 180, {"TORCHDYNAMO_DISABLE": "1"}),
            Step("bench_predict", [py, "-m", "benchmarks.throughput.bench_predict", "--device", "cpu", "--size", "96",
                                   "--compare-size", "64", "--tiles", "32", "--batch", "1", "--generators", "unet"],
                 180),
        ]
    return [
        Step("build", build, 300, build_env),
        Step("ptxas", ptxas, 120),
        Step("backend_info", info, 60),
        Step("cuda_tests", tests, 240),
        Step("bench_degrade", [py, "-m", "benchmarks.throughput.bench_degrade", "--device", "cuda", "--repeats", "20",
                               "--cases", "64x512x448,16x512x448,64x256x256,128x224x224"], 120),
        Step("bench_train", [*train, "--preset", "gpu", "--steps", "5", "--generators", "unet,hrnet"], 240),
        Step("bench_train_compile", [*train, "--preset", "gpu", "--steps", "5", "--generators", "unet",
                                     "--compile"], 300),
        Step("bench_predict", [py, "-m", "benchmarks.throughput.bench_predict", "--device", "cuda", "--tiles", "512"], 240),
    ]


def run_step(step: Step, out: Path) -> tuple[int, float]:
    """Run one step, tee its output to ``out/<name>.txt``; (exit status, seconds)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **step.env}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(step.argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=step.timeout)
        rc, text = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc = 124
        text = f"{exc.stdout or ''}{exc.stderr or ''}\n[gpu_check: timed out after {step.timeout} s]\n"
        text = text if isinstance(text, str) else text.decode(errors="replace")
    seconds = time.perf_counter() - t0
    header = f"$ {' '.join(step.argv)}\n# env: {json.dumps(step.env)}\n# exit {rc} after {seconds:.1f} s\n\n"
    (out / f"{step.name}.txt").write_text(header + text)
    print(f"[gpu_check] {step.name:<20} exit {rc:>3}  {seconds:6.1f} s", flush=True)
    return rc, seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dry-run", action="store_true", help="tiny CPU run of every step (for CI)")
    ap.add_argument("--out", type=Path, default=None, help="result folder (default benchmarks/results/gpu_<name>)")
    ap.add_argument("--skip", default="", help="comma-separated step names to skip (e.g. build)")
    args = ap.parse_args(argv)
    if args.dry_run:
        name, arch = "dry-run", "90-real"
    else:
        name, arch = detect_gpu()
        if shutil.which("nvcc") is None and "build" not in args.skip:
            sys.exit("gpu_check: nvcc is not on PATH (needed to build emkit's CUDA kernels)")
    out = args.out or RESULTS / f"gpu_{slug(name)}"
    out.mkdir(parents=True, exist_ok=True)
    skip = {s for s in args.skip.split(",") if s}
    summary = [f"gpu_check on {name} (arch {arch}){' -- DRY RUN on CPU' if args.dry_run else ''}", "",
               f"{'step':<20} {'exit':>4} {'seconds':>8}"]
    failed = []
    t0 = time.perf_counter()
    for step in steps(args.dry_run, arch, out):
        if step.name in skip:
            summary.append(f"{step.name:<20} {'skip':>4}")
            continue
        rc, seconds = run_step(step, out)
        summary.append(f"{step.name:<20} {rc:>4} {seconds:>8.1f}")
        if rc != 0:
            failed.append(step.name)
            if step.name == "build":
                summary.append("build failed: the remaining steps would test a stale extension; stopping")
                break
    summary += ["", f"total {time.perf_counter() - t0:.0f} s; failed: {', '.join(failed) or 'none'}"]
    (out / "summary.txt").write_text("\n".join(summary) + "\n")
    print("\n".join(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
