"""One-call GPU check: self-check, CUDA tests and GPU benchmarks within one 600 s command, one archive.

Made for a lent GPU machine that runs ONE command of at most 600 s and hands back only a
few files written under ``$OUT``::

    EMKIT_CUDA=ON EMKIT_CUDA_ARCHITECTURES=90-real pip install --no-build-isolation --no-deps -e . \\
        && python -m benchmarks.throughput.gpu_check --out $OUT/gpu

Each step is a subprocess with its own time budget (:data:`STEPS`); the budgets add up to
at most :data:`TOTAL_BUDGET_S` = 540 s, and a step never runs past what is left of it, so
the whole check ends inside the command's limit with time to pack. In order of value:

1. ``environment``: GPU, driver, torch, nvcc, ``emkit.ops.backend_info()``;
2. ``build``: only when ``emkit._C`` has no usable CUDA kernels (``pip install`` for this
   GPU's architecture alone);
3. ``self_check``: the first-use self-check of the CUDA kernel against the reference
   (child process), timed twice;
4. ``cuda_tests``: ``pytest -m cuda tests/ops`` (kernel vs CPU kernel, fault isolation, ...);
5. ``kernel``: bench_degrade_kernel -- the kernel's own bandwidth (CUDA events, CUDA graph,
   Poisson off/on) as a fraction of a device-to-device copy, end-to-end beside it;
6. ``train``: bench_train at the GPU preset (bf16, batch 128, 256^2): data share of a
   pix2pix step with the fused op, kornia (when installed) and plain torch;
7. ``pipelines``: bench_degrade -- whole calls of fused op vs kornia vs plain torch;
8. ``ptxas``: registers/spills/occupancy of the kernels for this architecture.

Everything is written to ``--out`` (one log per step with its command and exit status,
the benchmarks' results files, ``summary.txt``); when ``$OUT`` is set the folder is packed
into ONE archive ``$OUT/gpu_check_<gpu>.tar.gz`` (and removed if it lay inside ``$OUT``),
since the machine returns only a handful of files. Optional packages (kornia) are never
required. ``--dry-run`` runs every step at tiny sizes on the CPU with kornia made
unimportable, checking the budgets, the optional imports and the archive in CI
(tests/benchmarks/test_gpu_check.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
#: The command limit is 600 s; the pip install before this script and the packing after
#: the steps get the rest.
TOTAL_BUDGET_S = 540


@dataclass
class Step:
    """One command of the check: its time budget (seconds), extra environment, results file."""

    name: str
    argv: list[str]
    budget: int
    env: dict[str, str] = field(default_factory=dict)


#: (name, budget in seconds) in the order they run; the budgets sum to <= TOTAL_BUDGET_S.
STEPS: list[tuple[str, int]] = [("environment", 15), ("build", 100), ("self_check", 25), ("cuda_tests", 90),
                                ("kernel", 75), ("train", 130), ("pipelines", 60), ("ptxas", 30)]

_ENVIRONMENT = """
import json, platform, shutil, subprocess, torch
import emkit.ops as o
from emkit.ops._backend import build_info
print("python", platform.python_version(), "| torch", torch.__version__, "| torch CUDA", torch.version.cuda)
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(f"device 0: {p.name}, capability {p.major}.{p.minor}, {p.multi_processor_count} SMs, "
          f"{p.total_memory / 2**30:.1f} GiB, L2 {getattr(p, 'L2_cache_size', 0) / 2**20:.0f} MiB")
for cmd in (["nvidia-smi", "-L"], ["nvcc", "--version"]):
    if shutil.which(cmd[0]):
        print(subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[-1])
from benchmarks.common import optional_import
print("kornia:", "installed" if optional_import("kornia") else "not installed")
print(json.dumps({"build_info": build_info(), "backend_info": o.backend_info()}, indent=1, default=str))
"""

_SELF_CHECK = """
import sys, time, torch
from emkit.ops import self_check as S
cuda = sys.argv[1] == "cuda"
if cuda:
    torch.cuda.init()
    kernel = S.child_process_runner(torch.cuda.current_device())
else:  # dry run: the same check of the CPU kernel
    from emkit.ops.degrade_launch import LaunchCall, launch_native
    kernel = S.in_process_runner(lambda *f: launch_native(LaunchCall(*f)), torch.device("cpu"))
cases = S.check_cases()
for k in (1, 2):
    t = time.perf_counter()
    reason = S.run_self_check(kernel, cases=cases)
    print(f"self-check {k}: {'passed' if reason is None else 'FAILED: ' + reason} in {time.perf_counter() - t:.2f} s")
t = time.perf_counter(); kernel(cases); k_s = time.perf_counter() - t
t = time.perf_counter(); S.reference_outputs(cases); r_s = time.perf_counter() - t
print(f"of which: kernel side {k_s:.2f} s ({'child process: start, CUDA init, run' if cuda else 'in process'}), "
      f"reference {r_s:.2f} s (run concurrently)")
sys.exit(0 if reason is None else 1)
"""


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


def _module(name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", f"benchmarks.throughput.{name}", *args]


def step_commands(dry_run: bool, arch: str, out: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    """name -> (argv, extra env) of every step; the dry run keeps each script and flag at tiny sizes on the CPU."""
    py = sys.executable
    build = [py, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "-e", str(ROOT)]
    build_env = {"EMKIT_CUDA": "ON", "EMKIT_CUDA_ARCHITECTURES": arch}
    needs_build = "from emkit.ops._backend import cuda_unusable_reason as r; import sys; sys.exit(1 if r() else 0)"
    if dry_run:
        build_cmd = [py, "-c", "import sys; print('would run (when emkit._C has no CUDA):', sys.argv[1:])", *build]
    else:  # build only when the installed extension cannot run CUDA kernels here
        build_cmd = ["bash", "-c", f'"{py}" -c "{needs_build}" && echo "emkit._C already has usable CUDA kernels: '
                                   f'no build" || {" ".join(build)}']
    res = {name: str(out / f"{name}_results.txt") for name in ("kernel", "train", "pipelines", "ptxas")}
    tiny = ["--dry-run"] if dry_run else []
    return {
        "environment": ([py, "-c", _ENVIRONMENT], {}),
        "build": (build_cmd, build_env),
        "self_check": ([py, "-c", _SELF_CHECK, "cpu" if dry_run else "cuda"], {}),
        "cuda_tests": ([py, "-m", "pytest", "-q", "-m", "cuda", "-rs", "-p", "no:cacheprovider", str(ROOT / "tests" / "ops")],
                       {}),
        "kernel": (_module("bench_degrade_kernel", *tiny, "--results", res["kernel"]), {}),
        "train": (_module("bench_train", *(tiny or ["--preset", "gpu", "--steps", "5", "--generators", "unet,hrnet"]),
                          "--results", res["train"]), {}),
        "pipelines": (_module("bench_degrade", "--device", "cpu" if dry_run else "cuda", *tiny, "--repeats",
                              "1" if dry_run else "10", "--warmup", "0" if dry_run else "2", "--results",
                              res["pipelines"]), {}),
        "ptxas": (_module("ptxas_occupancy", *tiny, "--arch", "sm_" + arch.split("-")[0], "--results", res["ptxas"]),
                  {}),
    }


def steps(dry_run: bool, arch: str, out: Path) -> list[Step]:
    commands = step_commands(dry_run, arch, out)
    return [Step(name, commands[name][0], budget, commands[name][1]) for name, budget in STEPS]


def run_step(step: Step, out: Path, timeout: float, extra_env: dict[str, str]) -> tuple[int, float]:
    """Run one step with ``timeout`` seconds, its output to ``out/<name>.txt``; (exit status, seconds)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **extra_env, **step.env}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(step.argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        rc, text = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc = 124
        text = "".join(t.decode(errors="replace") if isinstance(t, bytes) else (t or "") for t in (exc.stdout, exc.stderr))
        text += f"\n[gpu_check: stopped after its {timeout:.0f} s budget]\n"
    seconds = time.perf_counter() - t0
    header = (f"$ {' '.join(step.argv)}\n# env: {json.dumps(step.env)}\n# budget {step.budget} s, "
              f"exit {rc} after {seconds:.1f} s\n\n")
    (out / f"{step.name}.txt").write_text(header + text)
    print(f"[gpu_check] {step.name:<12} exit {rc:>3}  {seconds:6.1f} s of {timeout:.0f} s", flush=True)
    return rc, seconds


def budget_table() -> list[str]:
    lines = [f"{'step':<12} {'budget s':>8}"] + [f"{name:<12} {budget:>8}" for name, budget in STEPS]
    return lines + [f"{'total':<12} {sum(b for _, b in STEPS):>8}  (limit {TOTAL_BUDGET_S} s)"]


def hide_optional_packages(tmp: Path) -> dict[str, str]:
    """PYTHONPATH entry that makes ``import kornia`` fail (the dry run proves nothing needs it)."""
    stub = tmp / "kornia"
    stub.mkdir(parents=True, exist_ok=True)
    (stub / "__init__.py").write_text(  # as if not installed (pytest.importorskip skips on this one)
        "raise ModuleNotFoundError(\"No module named 'kornia' (hidden by gpu_check --dry-run)\", name='kornia')\n")
    return {"PYTHONPATH": os.pathsep.join([str(tmp), *filter(None, [os.environ.get("PYTHONPATH")])])}


def pack(out: Path, name: str) -> Path | None:
    """When ``$OUT`` is set: ``out`` as ONE archive ``$OUT/gpu_check_<name>.tar.gz`` (``out``
    removed if it lies inside ``$OUT``, so the archive is all that comes back)."""
    target_dir = os.environ.get("OUT")
    if not target_dir:
        return None
    target = Path(target_dir) / f"gpu_check_{slug(name)}.tar.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(target, "w:gz") as tar:
        tar.add(out, arcname=f"gpu_{slug(name)}")
    if Path(target_dir).resolve() in out.resolve().parents:
        shutil.rmtree(out)
    return target


def run_all(step_list: list[Step], out: Path, extra_env: dict[str, str]) -> tuple[list[str], list[str]]:
    """Runs the steps within TOTAL_BUDGET_S; (summary lines, names of failed steps)."""
    lines, failed = [f"{'step':<12} {'budget':>6} {'exit':>4} {'seconds':>8}"], []
    t0 = time.perf_counter()
    for step in step_list:
        left = TOTAL_BUDGET_S - (time.perf_counter() - t0)
        if left < 5:
            lines.append(f"{step.name:<12} {step.budget:>6} {'skip':>4}  (no time left)")
            failed.append(step.name)
            continue
        rc, seconds = run_step(step, out, min(step.budget, left), extra_env)
        lines.append(f"{step.name:<12} {step.budget:>6} {rc:>4} {seconds:>8.1f}")
        if rc != 0:
            failed.append(step.name)
            if step.name == "build":
                lines.append("build failed: the remaining steps would test a stale extension; stopping")
                break
    lines.append(f"{'total':<12} {sum(s.budget for s in step_list):>6} {'':>4} {time.perf_counter() - t0:>8.1f}")
    return lines, failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dry-run", action="store_true", help="tiny CPU run of every step, kornia hidden (for CI)")
    ap.add_argument("--out", type=Path, default=None, help="result folder (default benchmarks/results/gpu_<name>)")
    args = ap.parse_args(argv)
    if sum(budget for _, budget in STEPS) > TOTAL_BUDGET_S:
        sys.exit("gpu_check: step budgets exceed TOTAL_BUDGET_S\n" + "\n".join(budget_table()))
    name, arch = ("dry-run", "90-real") if args.dry_run else detect_gpu()
    out = args.out or RESULTS / f"gpu_{slug(name)}"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        extra_env = hide_optional_packages(Path(tmp)) if args.dry_run else {}
        lines, failed = run_all(steps(args.dry_run, arch, out), out, extra_env)
    summary = [f"gpu_check on {name} (arch {arch}){' -- DRY RUN on CPU, kornia hidden' if args.dry_run else ''}",
               "", *lines, "", f"failed: {', '.join(failed) or 'none'}"]
    (out / "summary.txt").write_text("\n".join(summary) + "\n")
    archive = pack(out, name)
    print("\n".join(summary + ([f"archive: {archive}"] if archive else [])))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
