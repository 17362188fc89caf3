"""Which implementation of the fused degradation op runs on a device: native kernel or reference.

emkit's CUDA kernels are safe by construction only if they are checked where they run.
So the first time the op runs on a CUDA device in a process (mode ``auto``), the
self-check of :mod:`emkit.ops.self_check` runs the kernel on fixed cases in a child
process and compares them with the pure-torch reference (:mod:`emkit.ops._reference`),
noise included. On a mismatch, a CUDA error, a crash or a timeout, one warning line says
why and the reference runs on that device for the rest of the process (slow but correct).

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
