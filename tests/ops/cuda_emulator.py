"""The CUDA degradation kernel run on the CPU: build and call tests/ops/cuda_emulation.

:func:`build` compiles ``cuda_emulation/cuda_emulator.cpp`` -- which includes the unmodified
``csrc/cuda/degrade_launch.cuh`` and ``degrade_kernel.cuh`` on top of a small CUDA shim --
with the system C++ compiler into a shared library cached under ``build/cuda_emulator/``
(keyed by a hash of every source it reads, so an edit of the kernel rebuilds it). It is a
test-only artefact: the installed package never contains it.

:func:`emulated_degrade` calls it like ``emkit._C.degrade_cuda`` with torch tensors on the
CPU and returns the outputs the CUDA kernel would write, plus the emulation's counters.
``mutations`` builds a deliberately broken copy of the kernel (textual replacements, each
of which must match exactly once) for tests that must see a wrong kernel rejected.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "cuda_emulation"
KERNEL_DIR = ROOT / "csrc" / "cuda"
INCLUDE_DIR = ROOT / "csrc" / "include"
SOURCES = [HERE / "cuda_emulator.cpp", HERE / "cuda_shim.h", KERNEL_DIR / "degrade_launch.cuh",
           KERNEL_DIR / "degrade_kernel.cuh", *sorted((INCLUDE_DIR / "emkit").glob("*.h"))]
CACHE = Path(os.environ.get("EMKIT_EMULATOR_CACHE", ROOT / "build" / "cuda_emulator"))

_IN = {torch.uint8: 0, torch.uint16: 1, torch.float32: 2}
_OUT = {torch.float32: 0, torch.bfloat16: 1}
ORDERS = {"forward": 0, "reverse": 1, "random": 2}
_loaded: dict[str, ctypes.CDLL] = {}


class EmuCall(ctypes.Structure):
    _fields_ = [("input", ctypes.c_void_p), ("in_dtype", ctypes.c_int32), ("out_dtype", ctypes.c_int32),
                ("batch", ctypes.c_int64), ("channels", ctypes.c_int64), ("in_h", ctypes.c_int64),
                ("in_w", ctypes.c_int64), ("out_h", ctypes.c_int64), ("out_w", ctypes.c_int64),
                ("params", ctypes.c_void_p), ("out_clean", ctypes.c_void_p), ("out_degraded", ctypes.c_void_p),
                ("seed", ctypes.c_uint64), ("seed_on_device", ctypes.c_int32), ("order", ctypes.c_int32),
                ("order_seed", ctypes.c_uint64), ("sms", ctypes.c_int32), ("unused", ctypes.c_int32),
                ("degrade_channels", ctypes.c_void_p), ("nearest_channels", ctypes.c_void_p),
                ("blocks_run", ctypes.c_int64), ("barrier_phases", ctypes.c_int64)]


@dataclass
class EmuStats:
    """What one emulated call ran: blocks (all launches) and barrier releases."""

    blocks_run: int
    barrier_phases: int


def compiler() -> str | None:
    """The C++ compiler the emulator is built with (``CXX``, else g++ / c++), or None."""
    for name in (os.environ.get("CXX"), "g++", "c++"):
        if name and shutil.which(name):
            return name
    return None


def _mutated_headers(mutations: Mapping[str, str], into: Path) -> None:
    """Copies of the launch and kernel headers with each ``old -> new`` applied exactly once."""
    texts = {p.name: p.read_text() for p in (KERNEL_DIR / "degrade_launch.cuh", KERNEL_DIR / "degrade_kernel.cuh")}
    for old, new in mutations.items():
        hits = [name for name, text in texts.items() if text.count(old) == 1]
        if len(hits) != 1 or sum(text.count(old) for text in texts.values()) != 1:
            raise AssertionError(f"mutation target must occur exactly once in the kernel headers: {old!r}")
        texts[hits[0]] = texts[hits[0]].replace(old, new)
    for name, text in texts.items():
        (into / name).write_text(text)


def build(mutations: Mapping[str, str] | None = None) -> Path:
    """Path of the compiled emulator (built once per source hash and mutation set)."""
    digest = hashlib.sha256()
    for path in SOURCES:
        digest.update(path.name.encode() + path.read_bytes())
    for old, new in sorted((mutations or {}).items()):
        digest.update(b"\0mutation\0" + old.encode() + b"\0" + new.encode())
    target = CACHE / f"cuda_emulator-{digest.hexdigest()[:16]}.so"
    if target.exists():
        return target
    cxx = compiler()
    if cxx is None:
        raise RuntimeError("no C++ compiler (g++/c++ or $CXX) to build the CUDA emulation")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        include_first = []
        if mutations:
            _mutated_headers(mutations, Path(tmp))
            include_first = [f"-I{tmp}"]
            shutil.copy(HERE / "cuda_emulator.cpp", Path(tmp) / "cuda_emulator.cpp")
        source = Path(tmp) / "cuda_emulator.cpp" if mutations else HERE / "cuda_emulator.cpp"
        out = Path(tmp) / target.name
        cmd = [cxx, "-std=c++17", "-O2", "-fPIC", "-shared", "-fno-toplevel-reorder", "-Wno-unknown-pragmas",
               *include_first, f"-I{KERNEL_DIR}", f"-I{INCLUDE_DIR}", f"-I{HERE}", str(source), "-o", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"building the CUDA emulation failed:\n{' '.join(cmd)}\n{proc.stderr[-4000:]}")
        os.replace(out, target)  # atomic: a concurrent build never sees half a library
    return target


def load(mutations: Mapping[str, str] | None = None) -> ctypes.CDLL:
    path = str(build(mutations))
    if path not in _loaded:
        lib = ctypes.CDLL(path)
        lib.emu_degrade_cuda.argtypes = [ctypes.POINTER(EmuCall)]
        lib.emu_degrade_cuda.restype = ctypes.c_char_p
        _loaded[path] = lib
    return _loaded[path]


def _flags(flags: Sequence[bool] | None, channels: int) -> ctypes.Array | None:
    if flags is None:
        return None
    if len(flags) != channels:
        raise ValueError(f"need one flag per channel ({channels}), got {len(flags)}")
    return (ctypes.c_uint8 * channels)(*[int(bool(f)) for f in flags])


def emulated_degrade(images: torch.Tensor, params: torch.Tensor, size: tuple[int, int], seed: int, *,
                     out_dtype: torch.dtype = torch.float32, clean: bool = True, degraded: bool = True,
                     degrade_channels: Sequence[bool] | None = None, nearest_channels: Sequence[bool] | None = None,
                     seed_on_device: bool = False, order: str = "forward", order_seed: int = 0, sms: int = 2,
                     mutations: Mapping[str, str] | None = None,
                     ) -> tuple[torch.Tensor | None, torch.Tensor | None, EmuStats]:
    """The emulated CUDA op on CPU tensors: ``(clean or None, degraded or None, stats)``.

    Raises RuntimeError with the kernel's (or the emulation's) error message.
    """
    images, params = images.contiguous(), params.contiguous().float()
    b, c, in_h, in_w = images.shape
    h, w = size
    outs = [torch.empty((b, c, h, w), dtype=out_dtype) if want else None for want in (clean, degraded)]
    dflags, nflags = _flags(degrade_channels, c), _flags(nearest_channels, c)
    call = EmuCall(input=images.data_ptr(), in_dtype=_IN[images.dtype], out_dtype=_OUT[out_dtype], batch=b,
                   channels=c, in_h=in_h, in_w=in_w, out_h=h, out_w=w, params=params.data_ptr(),
                   out_clean=outs[0].data_ptr() if outs[0] is not None else None,
                   out_degraded=outs[1].data_ptr() if outs[1] is not None else None,
                   seed=int(seed) % 2**64, seed_on_device=int(seed_on_device), order=ORDERS[order],
                   order_seed=order_seed, sms=sms,
                   degrade_channels=ctypes.cast(dflags, ctypes.c_void_p) if dflags is not None else None,
                   nearest_channels=ctypes.cast(nflags, ctypes.c_void_p) if nflags is not None else None)
    err = load(mutations).emu_degrade_cuda(ctypes.byref(call))
    if err is not None:
        raise RuntimeError(f"degrade_cuda (emulated): {err.decode()}")
    return outs[0], outs[1], EmuStats(int(call.blocks_run), int(call.barrier_phases))


def emulated_runner(mutations: Mapping[str, str] | None = None, order: str = "forward"):
    """A :data:`emkit.ops.self_check.Runner` running the cases through the emulated CUDA kernel."""
    from emkit.ops.self_check import CaseOutputs

    def run(cases):
        out = []
        for case in cases:
            clean, degraded, _ = emulated_degrade(
                case.images, case.params, case.size, case.seed, out_dtype=case.out_dtype, clean=case.clean,
                degraded=case.degraded, degrade_channels=case.degrade_channels,
                nearest_channels=case.nearest_channels, seed_on_device=case.seed_on_device, order=order,
                mutations=mutations)
            out.append(CaseOutputs(clean, degraded))
        return out

    return run
