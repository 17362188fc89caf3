"""ptxas figures and theoretical occupancy of the CUDA degradation kernels for one architecture.

Compiles ``csrc/cuda/degrade_cuda.cu`` with ``nvcc -Xptxas -v`` (no GPU needed) and prints,
per kernel: registers, static shared memory, stack frame, spill bytes and the resulting
blocks per SM (limited by registers, shared memory or threads), using the documented
per-SM limits of the architecture. Block size: 256 threads (degrade_kernel.cuh kThreads).

    python -m benchmarks.throughput.ptxas_occupancy --arch sm_90 [--results]   # benchmarks/results/ptxas_sm90.txt
    python -m benchmarks.throughput.ptxas_occupancy --parse saved_ptxas_output.txt --arch sm_90
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import add_results_flag, report

ROOT = Path(__file__).resolve().parents[2]  # the repository (benchmarks/throughput/ is two levels down)
SOURCE = ROOT / "csrc" / "cuda" / "degrade_cuda.cu"
THREADS = 256

# arch -> (max threads/SM, usable shared memory/SM in bytes, reserved shared/block, max blocks/SM)
LIMITS = {
    "sm_75": (1024, 64 * 1024, 0, 16),
    "sm_80": (2048, 164 * 1024, 1024, 32),
    "sm_86": (1536, 100 * 1024, 1024, 16),
    "sm_89": (1536, 100 * 1024, 1024, 24),
    "sm_90": (2048, 228 * 1024, 1024, 32),
    "sm_100": (2048, 228 * 1024, 1024, 32),
    "sm_120": (1536, 100 * 1024, 1024, 24),
}
REGS_PER_SM = 65536

_ENTRY = re.compile(r"Compiling entry function '(\w+)'")
_PROPS = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_USED = re.compile(r"Used (\d+) registers")
_SMEM = re.compile(r"(\d+) bytes smem")

SAMPLE = """ptxas info    : Compiling entry function '_ZN5emkit11degrade_dev14degrade_kernelIhLb0ELb0EEEvPKT_NS0_10KernelArgsENS0_12ChannelFlagsE' for 'sm_90'
ptxas info    : Function properties for _ZN5emkit11degrade_dev14degrade_kernelIhLb0ELb0EEEvPKT_NS0_10KernelArgsENS0_12ChannelFlagsE
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 64 registers, used 1 barriers, 39556 bytes smem
"""


def demangle_short(name: str) -> str:
    """A readable label: kernel name plus its template arguments as mangled (h=u8, t=u16, f=f32)."""
    m = re.search(r"\d+(degrade_kernel|setup_kernel|philox_fill_kernel)(I(.*?)EE)?", name)
    if not m:
        return name
    args = m.group(3) or ""
    types = {"h": "u8", "t": "u16", "f": "f32"}
    parts = [types.get(args[:1], args[:1])] if args else []
    parts += re.findall(r"Lb([01])", args)
    return m.group(1) + (f"<{','.join(parts)}>" if parts else "")


def parse(text: str) -> list[dict]:
    """Per kernel: name, registers, smem, stack, spill_stores, spill_loads."""
    out: list[dict] = []
    current: dict | None = None
    for line in text.splitlines():
        if m := _ENTRY.search(line):
            current = {"name": demangle_short(m.group(1)), "stack": 0, "spill_stores": 0, "spill_loads": 0}
            out.append(current)
        elif current is not None and (m := _PROPS.search(line)) and "registers" not in line:
            if "stack" not in current or current["stack"] == 0:
                current.update(stack=int(m.group(1)), spill_stores=int(m.group(2)), spill_loads=int(m.group(3)))
        elif current is not None and (m := _USED.search(line)):
            smem = _SMEM.search(line)
            current.update(registers=int(m.group(1)), smem=int(smem.group(1)) if smem else 0)
            current = None
    return [k for k in out if "registers" in k]


def blocks_per_sm(arch: str, registers: int, smem: int, threads: int = THREADS) -> tuple[int, str]:
    """Theoretical resident blocks per SM and the limiting resource."""
    max_threads, smem_sm, reserved, max_blocks = LIMITS[arch]
    warps = (threads + 31) // 32
    per_warp = -(-registers * 32 // 256) * 256  # allocation granularity: 256 registers per warp
    by_regs = (REGS_PER_SM // per_warp) // warps if per_warp else max_blocks
    by_smem = smem_sm // (smem + reserved) if smem + reserved else max_blocks
    by_threads = max_threads // threads
    limits = {"registers": by_regs, "shared memory": by_smem, "threads": by_threads, "block limit": max_blocks}
    which = min(limits, key=limits.get)
    return limits[which], which


def table(arch: str, kernels: list[dict]) -> str:
    lines = [f"{'kernel':<28} {'regs':>4} {'smem B':>7} {'stack B':>7} {'spill st/ld':>11} {'blocks/SM':>9} "
             f"{'occupancy':>9}  limited by"]
    max_threads = LIMITS[arch][0]
    for k in kernels:
        threads = 64 if k["name"].startswith("setup") else THREADS
        blocks, which = blocks_per_sm(arch, k["registers"], k["smem"], threads)
        occ = blocks * threads / max_threads
        lines.append(f"{k['name']:<28} {k['registers']:>4} {k['smem']:>7} {k['stack']:>7} "
                     f"{k['spill_stores']:>5}/{k['spill_loads']:<5} {blocks:>9} {occ:>8.0%}  {which}")
    return "\n".join(lines)


def compile_ptxas(arch: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["nvcc", "-std=c++17", "-O3", f"-arch={arch}", f"-I{ROOT / 'csrc' / 'include'}", "-Xptxas", "-v",
               "-c", str(SOURCE), "-o", str(Path(tmp) / "k.o")]
        proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"nvcc failed:\n{proc.stderr[-3000:]}")
    return proc.stdout + proc.stderr


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", default="sm_90", choices=sorted(LIMITS))
    ap.add_argument("--parse", type=Path, help="parse saved `nvcc -Xptxas -v` output instead of compiling")
    add_results_flag(ap, "ptxas_{arch}.txt")
    ap.add_argument("--dry-run", action="store_true", help="parse a built-in sample (checks the script, no nvcc)")
    args = ap.parse_args(argv)
    if args.dry_run:
        text = SAMPLE
    elif args.parse:
        text = args.parse.read_text()
    else:
        text = compile_ptxas(args.arch)
    kernels = parse(text)
    if not kernels:
        sys.exit("no kernels found in the ptxas output")
    result = f"ptxas -v, {args.arch}, {THREADS} threads/block ({SOURCE.relative_to(ROOT)})\n" + table(args.arch, kernels)
    report(result, args.results, arch=args.arch.replace("_", ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
