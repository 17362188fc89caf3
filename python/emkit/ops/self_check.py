"""First-use self-check of a native degradation kernel against the pure-torch reference.

A kernel compiled for one GPU is only trusted where it has been seen to compute the
reference's function, so before emkit's CUDA kernel runs on a device for the first time,
:func:`run_self_check` runs a fixed set of :class:`CheckCase` calls through it and through
:mod:`emkit.ops._reference` (float64, on the CPU) and compares them with
:func:`compare_case`. The cases cover what a wrong kernel could get wrong: several output
tiles per plane with interior (no-reflection) and border tiles, widths that end in a
partial Philox block, batch > 1, uint8 / uint16 / float32 inputs, float32 and bfloat16
outputs, nearest and non-degraded channels, a clean-only call, a seed in device memory,
both Poisson samplers. Geometry, blur and Gaussian noise must agree to 1e-4 everywhere
(the reference draws the kernels' own Philox numbers, so the noise is compared exactly);
Poisson counts may differ where a rate sits within float rounding of a decision boundary
(:data:`POISSON_CAP`), nearest samples where a coordinate sits at a rounding boundary.

On CUDA the kernel runs in a child process (:mod:`emkit.ops._self_check_child`, no torch,
only ``emkit._C``), so a kernel that faults -- a sticky CUDA error poisons every later call
in its process -- leaves the caller's CUDA context untouched; its error, a crash or a
timeout becomes the one-line reason :mod:`emkit.ops.dispatch` reports before it falls back
to the reference. The comparison itself is a pure function of (kernel runner, reference
runner), so tests drive it with the CPU kernel, the CPU emulation of the CUDA kernel and
deliberately broken variants of it.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

#: Largest fraction of nearest-sampled pixels that may pick the neighbouring pixel (a
#: coordinate within float rounding of a pixel boundary; measured ~2e-5).
NEAREST_CAP = 1e-3
#: Poisson pixels that may be one count apart: ``POISSON_CAP[0] * n + POISSON_CAP[1]`` of
#: ``n`` (measured on the CPU emulation of the CUDA kernel: 2.1e-5 per Poisson pixel).
POISSON_CAP = (5e-4, 5)
TOLERANCE = 1e-4
CHILD_TIMEOUT_S = 120.0

_IN = {torch.uint8: 0, torch.uint16: 1, torch.float32: 2}
_OUT = {torch.float32: 0, torch.bfloat16: 1}


@dataclass(frozen=True)
class CheckCase:
    """One call of the op: CPU inputs, which outputs are requested and how the seed is passed."""

    name: str
    images: Tensor
    params: Tensor
    size: tuple[int, int]
    seed: int
    out_dtype: torch.dtype
    clean: bool
    degraded: bool
    degrade_channels: tuple[bool, ...]
    nearest_channels: tuple[bool, ...]
    seed_on_device: bool


@dataclass
class CaseOutputs:
    clean: Tensor | None
    degraded: Tensor | None


#: Runs every case through a kernel (or the reference) and returns CPU outputs, in order.
Runner = Callable[[Sequence[CheckCase]], list[CaseOutputs]]


def _images(shape: tuple[int, ...], dtype: torch.dtype, seed: int) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.float32:
        return torch.rand(shape, generator=g)
    high = 256 if dtype == torch.uint8 else 65536
    return torch.randint(0, high, shape, generator=g, dtype=torch.int64).to(dtype)


def check_cases() -> list[CheckCase]:
    """The fixed cases (deterministic; four calls, ~250k output values in all)."""
    p = torch.tensor
    #        cx      cy     angle scale flip sigma noise dose
    tiles = p([[85.0, 75.0, 0.3, 0.8, 0.0, 1.3, 0.1, 0.0],      # inside: interior tiles
               [-425.0, 300.0, -2.1, 1.7, 1.0, 0.0, 0.05, 40.0],  # reflected; both Poisson samplers
               [100.0, 60.0, 1.2, 0.7, 0.0, 4.0, 0.08, 3.0]])     # widest blur; Poisson by inversion
    flags = p([[50.0, 45.0, 2.5, 1.1, 1.0, 2.2, 0.1, 0.0],
               [20.0, 70.0, -0.7, 1.4, 0.0, 0.8, 0.03, 20.0]])
    clean_only = p([[40.0, 32.0, 0.9, 1.2, 0.0, 1.0, 0.05, 25.0],
                    [30.0, 20.0, -1.4, 0.9, 1.0, 2.0, 0.0, 0.0]])
    floats = p([[45.0, 40.0, -2.8, 0.6, 1.0, 0.5, 0.2, 0.0],
                [60.0, 10.0, 0.1, 2.3, 0.0, 3.1, 0.0, 150.0]])
    return [
        CheckCase("uint8 tiles", _images((3, 2, 150, 170), torch.uint8, 1), tiles, (100, 138), 977,
                  torch.float32, True, True, (True, True), (False, False), False),
        CheckCase("uint16 flags", _images((2, 3, 90, 100), torch.uint16, 2), flags, (70, 75), 2**63 + 41,
                  torch.bfloat16, False, True, (True, False, False), (False, False, True), True),
        CheckCase("float32 clean-only", _images((2, 1, 64, 80), torch.float32, 3), clean_only, (50, 66), 5,
                  torch.float32, True, False, (True,), (False,), False),
        CheckCase("float32 bf16 pair", _images((2, 2, 80, 90), torch.float32, 4), floats, (40, 130), 2**40 + 3,
                  torch.bfloat16, True, True, (True, True), (False, False), False),
    ]


def reference_outputs(cases: Sequence[CheckCase]) -> list[CaseOutputs]:
    """The reference's float64 outputs of every case (CPU)."""
    from emkit.ops._reference import reference_degrade

    out = []
    for case in cases:
        clean, degraded = reference_degrade(case.images, case.params, case.size, case.seed,
                                            degrade_channels=case.degrade_channels,
                                            nearest_channels=case.nearest_channels)
        out.append(CaseOutputs(clean if case.clean else None, degraded if case.degraded else None))
    return out


def _masks(case: CheckCase, name: str, shape: torch.Size) -> tuple[Tensor, Tensor]:
    """(nearest pixels, Poisson pixels) of output ``name``."""
    nearest = torch.tensor(case.nearest_channels).view(1, -1, 1, 1).expand(shape)
    degrade = torch.tensor([d and not n for d, n in zip(case.degrade_channels, case.nearest_channels)])
    dose = torch.nan_to_num(case.params[:, 7].double(), nan=0.0) > 0
    poisson = (dose.view(-1, 1, 1, 1) & degrade.view(1, -1, 1, 1)).expand(shape)
    return nearest, poisson & (name == "degraded")


def _compare_output(case: CheckCase, name: str, got: Tensor | None, ref: Tensor) -> str | None:
    where = f"{case.name}, {name} output"
    if got is None or tuple(got.shape) != tuple(ref.shape) or got.dtype != case.out_dtype:
        shape = None if got is None else (tuple(got.shape), got.dtype)
        return f"{where}: expected {tuple(ref.shape)} {case.out_dtype}, got {shape}"
    g = got.double()
    if not bool(torch.isfinite(g).all()):
        return f"{where}: {int((~torch.isfinite(g)).sum())} elements not finite (never written?)"
    tol = torch.full_like(ref, TOLERANCE)
    if case.out_dtype == torch.bfloat16:  # plus one bfloat16 ulp of the value
        tol = tol + 2.0 ** (torch.floor(torch.log2(ref.abs().clamp(min=2**-100))) - 7)
    err = (g - ref).abs()
    bad = err > tol
    nearest, poisson = _masks(case, name, ref.shape)
    strict = bad & ~nearest & ~poisson
    if bool(strict.any()):
        idx = tuple(int(i) for i in strict.nonzero()[0])
        return (f"{where}: max |native - reference| = {float(err[~nearest & ~poisson].max()):.3g} > {TOLERANCE}, "
                f"first at (sample, channel, y, x) = {idx}")
    n_near = int(nearest.sum())
    if n_near and int((bad & nearest).sum()) > NEAREST_CAP * n_near:
        return f"{where}: {int((bad & nearest).sum())} of {n_near} nearest-sampled pixels differ"
    n_poisson = int(poisson.sum())
    wrong = int((bad & poisson).sum())
    if wrong > POISSON_CAP[0] * n_poisson + POISSON_CAP[1]:
        return f"{where}: {wrong} of {n_poisson} Poisson-noised pixels differ (more than rounding explains)"
    return None


def compare_case(case: CheckCase, got: CaseOutputs, ref: CaseOutputs) -> str | None:
    """None when the kernel's outputs of ``case`` match the reference's, else a one-line reason."""
    for name, wanted in (("clean", case.clean), ("degraded", case.degraded)):
        if wanted:
            reason = _compare_output(case, name, getattr(got, name), getattr(ref, name))
            if reason is not None:
                return reason
    return None


def run_self_check(run_kernel: Runner, run_reference: Runner = reference_outputs,
                   cases: Sequence[CheckCase] | None = None) -> str | None:
    """None when ``run_kernel`` computes the reference's function on every case, else why not (one line)."""
    cases = list(cases) if cases is not None else check_cases()
    with ThreadPoolExecutor(max_workers=1) as pool:  # the reference meanwhile (the child mostly waits)
        pending = pool.submit(run_reference, cases)
        try:
            got = run_kernel(cases)
        except (RuntimeError, ValueError, OSError, subprocess.SubprocessError) as exc:
            return " ".join(f"{type(exc).__name__}: {exc}".split())
        refs = pending.result()
    if len(got) != len(cases):
        return f"the kernel returned {len(got)} results for {len(cases)} cases"
    for case, outputs, ref in zip(cases, got, refs):
        reason = compare_case(case, outputs, ref)
        if reason is not None:
            return reason
    return None


# ---------------------------------------------------------------------- runners ----------
#: ``launch(images, params, out_h, out_w, seed, out_dtype, clean, degraded, degrade, nearest)``
#: fills ``clean`` / ``degraded`` in place (emkit.ops.degrade_launch adapts launch_native).
Launch = Callable[..., None]


def in_process_runner(launch: Launch, device: torch.device) -> Runner:
    """Cases run through ``launch`` in this process (the CPU kernel, or tests' stand-ins)."""

    def run(cases: Sequence[CheckCase]) -> list[CaseOutputs]:
        results = []
        for case in cases:
            x, p = case.images.to(device), case.params.to(device)
            shape = (*case.images.shape[:2], *case.size)
            outs = [torch.empty(shape, dtype=case.out_dtype, device=device) if want else None
                    for want in (case.clean, case.degraded)]
            signed = case.seed - 2**64 if case.seed >= 2**63 else case.seed
            seed = torch.tensor(signed, dtype=torch.int64, device=device if case.seed_on_device else "cpu")
            launch(x, p, case.size[0], case.size[1], seed, case.out_dtype, outs[0], outs[1],
                   list(case.degrade_channels), list(case.nearest_channels))
            results.append(CaseOutputs(*(o.cpu() if o is not None else None for o in outs)))
        return results

    return run


def _encode(case: CheckCase) -> dict[str, object]:
    return {"images": base64.b64encode(case.images.contiguous().numpy().tobytes()).decode(),
            "in_dtype": _IN[case.images.dtype], "shape": list(case.images.shape),
            "params": base64.b64encode(case.params.contiguous().numpy().tobytes()).decode(),
            "size": list(case.size), "seed": case.seed, "out_dtype": _OUT[case.out_dtype], "clean": case.clean,
            "degraded": case.degraded, "degrade": [int(f) for f in case.degrade_channels],
            "nearest": [int(f) for f in case.nearest_channels], "seed_on_device": case.seed_on_device}


def _decode(raw: str | None, case: CheckCase) -> Tensor | None:
    if raw is None:
        return None
    data = bytearray(base64.b64decode(raw))
    return torch.frombuffer(data, dtype=case.out_dtype).view(*case.images.shape[:2], *case.size).clone()


# Runs the child module as a script without the script's folder (python/emkit/ops, whose
# random.py would shadow the standard library) or the working directory on sys.path.
_CHILD_BOOT = "import runpy, sys; sys.path.pop(0); runpy.run_path(sys.argv[1], run_name='__main__')"


def child_process_runner(device_index: int, timeout: float = CHILD_TIMEOUT_S) -> Runner:
    """Cases run by emkit's CUDA kernel on ``device_index`` in a child process without torch."""

    def run(cases: Sequence[CheckCase]) -> list[CaseOutputs]:
        payload = json.dumps({"device": device_index, "cases": [_encode(c) for c in cases]})
        child = str(Path(__file__).with_name("_self_check_child.py"))
        proc = subprocess.run([sys.executable, "-c", _CHILD_BOOT, child], input=payload, capture_output=True,
                              text=True, timeout=timeout)
        if proc.returncode != 0:
            lines = [line for line in proc.stderr.splitlines() if line.strip()] or ["no output"]
            tail = next((line for line in reversed(lines) if "rror" in line), lines[-1]).strip()
            how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
            raise RuntimeError(f"self-check process failed ({how}): {tail}")
        outputs = json.loads(proc.stdout)["outputs"]
        return [CaseOutputs(_decode(c, case), _decode(d, case)) for (c, d), case in zip(outputs, cases)]

    return run


def check_device(device: torch.device, launch: Launch) -> str | None:
    """The self-check of ``device``'s native kernel: CUDA in a child process, others through ``launch``."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return run_self_check(child_process_runner(index))
    return run_self_check(in_process_runner(launch, device))
