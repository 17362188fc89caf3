"""Which implementation of the fused degradation op runs on a device: native kernel or reference.

emkit's CUDA kernels are safe by construction only if they are checked where they run.
So the first time the op runs on a CUDA device in a process (mode ``auto``), a small
fixed batch goes through the native kernel and through the pure-torch reference
(:mod:`emkit.ops._reference`) on the same device: geometry and blur must agree to 1e-4
with noise off, and with noise on the native noise must have the reference's statistics.
On a mismatch or a CUDA error, one warning line is emitted and the reference runs on
that device for the rest of the process (slow but correct).

The mode comes from :func:`set_ops_mode` (the run config's ``ops`` key), else from the
``EMKIT_OPS`` environment variable, else ``auto``:

* ``auto``: native on CPU (tested in CI); native on CUDA after the self-check passes;
* ``native``: native everywhere, no self-check (errors propagate);
* ``reference``: the pure-torch reference everywhere.

:func:`paths` reports, per device, which path ran (and why), for ``backend_info()`` and
the run's metrics.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable

import torch
from torch import Tensor

from emkit.errors import ConfigError

MODES = ("auto", "native", "reference")
#: Device types whose native path is self-checked in ``auto`` mode (tests add "cpu").
SELF_CHECKED = {"cuda"}

_lock = threading.Lock()
_configured: str | None = None
_paths: dict[str, str] = {}  # device key -> "native" | "reference" | "reference (<why>)"


def _validate(mode: str, source: str) -> str:
    m = str(mode).strip().lower()
    if m not in MODES:
        raise ConfigError(f"{source} must be one of {', '.join(MODES)}, got {mode!r}")
    return m


def set_ops_mode(mode: str | None) -> None:
    """Force the op implementation for this process (``None`` or ``"auto"``: back to EMKIT_OPS/auto).

    A change resets the per-device choices already made.
    """
    global _configured
    m = None if mode is None else _validate(mode, "ops")
    with _lock:
        if m != _configured:
            _paths.clear()
        _configured = None if m == "auto" else m


def ops_mode() -> str:
    """The effective mode: the configured one, else ``EMKIT_OPS``, else ``auto``."""
    if _configured is not None:
        return _configured
    env = os.environ.get("EMKIT_OPS", "").strip()
    return _validate(env, "EMKIT_OPS") if env else "auto"


def paths() -> dict[str, str]:
    """Per device used so far in this process, which implementation ran (and why, if not native)."""
    with _lock:
        return dict(_paths)


def ops_summary() -> str:
    """:func:`paths` as one short field for a metrics row, e.g. ``"cuda:0=native"`` (``""`` if unused)."""
    return " ".join(f"{k}={v}" for k, v in sorted(paths().items()))


def reset() -> None:
    """Forget the per-device choices (the next call checks again); for tests."""
    with _lock:
        _paths.clear()


def _key(device: torch.device) -> str:
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index}"
    return device.type


def choose(device: torch.device, self_check: Callable[[torch.device], str | None]) -> str:
    """``"native"`` or ``"reference"`` for ``device``, self-checking once per device in auto mode."""
    mode = ops_mode()
    if mode != "auto":
        with _lock:
            _paths.setdefault(_key(device), mode)
        return mode
    key = _key(device)
    with _lock:
        known = _paths.get(key)
    if known is not None:
        return "native" if known == "native" else "reference"
    if device.type not in SELF_CHECKED:
        with _lock:
            _paths[key] = "native"
        return "native"
    problem = self_check(device)
    if problem is None:
        with _lock:
            _paths[key] = "native"
        return "native"
    fall_back(device, problem)
    return "reference"


def fall_back(device: torch.device, problem: str) -> None:
    """Switch ``device`` to the reference path for the rest of the process; warn once, one line."""
    key = _key(device)
    with _lock:
        already = _paths.get(key, "").startswith("reference")
        _paths[key] = f"reference ({problem})"
    if not already:
        one_line = " ".join(problem.split())
        warnings.warn(f"emkit: native degrade op failed its check on {key} ({one_line}); "
                      "using the pure-torch reference there for the rest of this process", RuntimeWarning,
                      stacklevel=3)


# ------------------------------------------------------------------- self-check -----------
def _check_inputs(device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """A fixed small batch: 3 samples, 2 channels, reflection at borders, blur, both noises."""
    g = torch.Generator().manual_seed(20240607)
    x = torch.randint(0, 256, (4, 2, 40, 36), generator=g, dtype=torch.int64).to(torch.uint8)
    #            cx     cy    angle scale flip sigma noise dose
    p = torch.tensor([[18.0, 20.0, 0.3, 1.0, 0.0, 1.3, 0.0, 0.0],
                      [2.0, 37.5, -2.1, 1.7, 1.0, 0.0, 0.0, 0.0],
                      [30.0, 5.0, 1.2, 0.7, 0.0, 4.0, 0.0, 0.0],
                      [-50.0, 90.0, 3.0, 2.5, 1.0, 0.6, 0.0, 0.0]], dtype=torch.float32)
    noisy = p.clone()
    noisy[:, 6] = 0.1
    noisy[1::2, 7] = 40.0  # Poisson on two samples
    return x.to(device), p.to(device), noisy.to(device)


def _stats_close(native: Tensor, reference: Tensor, base: Tensor) -> bool:
    """Noise residuals ``native - base`` and ``reference - base`` have matching mean and std."""
    a, b = (native - base).flatten(), (reference - base).flatten()
    return abs(a.mean() - b.mean()).item() <= 0.1 * b.std().item() and abs(a.std() / b.std() - 1).item() <= 0.1


def self_check_with(run_native: Callable[..., tuple[Tensor, Tensor]], device: torch.device) -> str | None:
    """Compare ``run_native(images, params, (h, w), seed)`` with the reference on ``device``.

    Returns None when they agree, else a short reason (a mismatch or the error raised).
    """
    from emkit.ops._reference import reference_degrade

    size, seed = (24, 28), 977
    try:
        x, p, noisy = _check_inputs(device)
        clean, degraded = run_native(x, p, size, seed)
        ref_clean, ref_degraded = reference_degrade(x, p, size, seed)
        err = max((clean.double() - ref_clean).abs().max().item(), (degraded.double() - ref_degraded).abs().max().item())
        if not err <= 1e-4:
            return f"noise-off mismatch: max |native - reference| = {err:.3g} > 1e-4"
        _, noisy_native = run_native(x, noisy, size, seed)
        _, noisy_ref = reference_degrade(x, noisy, size, seed)
        if not bool(torch.isfinite(noisy_native).all()) or not _stats_close(noisy_native.double(), noisy_ref, ref_degraded):
            return "noise statistics differ from the reference"
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    except (RuntimeError, ValueError) as exc:  # CUDA errors surface as RuntimeError
        return f"{type(exc).__name__}: {exc}"
    return None
