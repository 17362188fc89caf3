"""Training checkpoints: safetensors weights + a weights-only torch state file + a pointer.

Layout under ``<run>/checkpoints/``::

    ckpt-00000120.safetensors   all modules' tensors, keys "<module>.<param>"
    ckpt-00000120.state.pt      optimizer states, step/epoch counters (tensors and plain
                                containers only: loaded with ``weights_only=True``)
    latest.json                 {"step": 120, "weights": ..., "state": ...} written last

Every file is written atomically and ``latest.json`` is replaced only after both data
files exist, so a run killed at any moment resumes from a complete checkpoint. Loading
never unpickles arbitrary code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from emkit.engine.atomic import write_atomic, write_text_atomic
from emkit.errors import EmkitError

POINTER = "latest.json"
KEEP = 2


def _module_tensors(modules: dict[str, nn.Module]) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            out[f"{name}.{key}"] = value.detach().to("cpu").contiguous()
    return out


def save_checkpoint(
    directory: str | Path,
    *,
    step: int,
    modules: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    extra: dict[str, Any],
) -> Path:
    """Write checkpoint ``step`` and point ``latest.json`` at it; prune older ones."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"ckpt-{step:08d}"
    weights = directory / f"{stem}.safetensors"
    state = directory / f"{stem}.state.pt"
    tensors = _module_tensors(modules)
    write_atomic(weights, lambda p: save_file(tensors, str(p), metadata={"step": str(step)}))
    payload = {
        "step": step,
        "optimizers": {k: v.state_dict() for k, v in optimizers.items()},
        "extra": extra,
    }
    write_atomic(state, lambda p: torch.save(payload, p))
    pointer = {"step": step, "weights": weights.name, "state": state.name}
    write_text_atomic(directory / POINTER, json.dumps(pointer, indent=1))
    _prune(directory, keep={weights.name, state.name})
    return weights


def _prune(directory: Path, keep: set[str]) -> None:
    ckpts = sorted(directory.glob("ckpt-*.safetensors"))
    for old in ckpts[:-KEEP]:
        if old.name in keep:
            continue
        old.unlink(missing_ok=True)
        old.with_name(old.name.replace(".safetensors", ".state.pt")).unlink(missing_ok=True)


def latest(directory: str | Path) -> dict[str, Any] | None:
    """The pointer of the newest complete checkpoint, or None when there is none."""
    pointer = Path(directory) / POINTER
    if not pointer.exists():
        return None
    try:
        info = json.loads(pointer.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise EmkitError(f"Checkpoint pointer {pointer} is unreadable: {exc}") from exc
    return info


def load_checkpoint(
    directory: str | Path,
    *,
    modules: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
) -> dict[str, Any] | None:
    """Restore the newest checkpoint into ``modules``/``optimizers``; return its ``extra``.

    Returns None when the directory holds no checkpoint.
    """
    directory = Path(directory)
    info = latest(directory)
    if info is None:
        return None
    weights_path = directory / info["weights"]
    state_path = directory / info["state"]
    try:
        tensors = load_file(str(weights_path))
        state = torch.load(state_path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - name the file whatever went wrong
        raise EmkitError(f"Cannot read checkpoint {weights_path.name} in {directory}: {exc}") from exc
    for name, module in modules.items():
        prefix = f"{name}."
        own = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        missing, unexpected = module.load_state_dict(own, strict=False)
        if missing or unexpected:
            raise EmkitError(
                f"Checkpoint {weights_path} does not match module {name!r}: "
                f"missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}"
            )
    for name, opt in optimizers.items():
        if name in state["optimizers"]:
            opt.load_state_dict(state["optimizers"][name])
    return {"step": int(state["step"]), **state["extra"]}
