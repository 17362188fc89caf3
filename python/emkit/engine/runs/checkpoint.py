"""Training checkpoints: safetensors weights + a weights-only torch state file + a pointer.

Layout under ``<run>/checkpoints/``::

    ckpt-00000120.safetensors   all modules' tensors, keys "<module>.<param>"
    ckpt-00000120.state.pt      optimizer states, step/epoch counters (tensors and plain
                                containers only: loaded with ``weights_only=True``)
    latest.json                 {"step": 120, "weights": ..., "state": ...} written last

Every file is written atomically and ``latest.json`` is replaced only after both data
files exist, so a run killed at any moment resumes from a complete checkpoint. Should the
newest checkpoint still be unreadable (a truncated copy, a damaged disk), resume falls back
to the newest one that loads, with a warning naming the broken file. Loading never
unpickles arbitrary code. Saving never recreates a deleted run folder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from emkit.storage.atomic import write_atomic, write_text_atomic
from emkit.errors import EmkitError, print_warning
from emkit.storage.json_files import read_json
from emkit.storage.oserrors import storage_operation

POINTER = "latest.json"
KEEP = 2
_STEM = re.compile(r"ckpt-(\d+)\.safetensors")


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
    """Write checkpoint ``step`` and point ``latest.json`` at it; prune older ones.

    ``directory`` may be created, but its parent (the run folder) must exist.
    """
    directory = Path(directory)
    with storage_operation("create checkpoint folder", directory):
        directory.mkdir(exist_ok=True)
    stem = f"ckpt-{step:08d}"
    weights = directory / f"{stem}.safetensors"
    state = directory / f"{stem}.state.pt"
    tensors = _module_tensors(modules)
    write_atomic(weights, lambda p: save_file(tensors, str(p), metadata={"step": str(step)}),
                 create_parents=False)
    payload = {
        "step": step,
        "optimizers": {k: v.state_dict() for k, v in optimizers.items()},
        "extra": extra,
    }
    write_atomic(state, lambda p: torch.save(payload, p), create_parents=False)
    pointer = {"step": step, "weights": weights.name, "state": state.name}
    write_text_atomic(directory / POINTER, json.dumps(pointer, indent=1), create_parents=False)
    _prune(directory, keep={weights.name, state.name})
    return weights


def _state_name(weights_name: str) -> str:
    return weights_name.replace(".safetensors", ".state.pt")


def _prune(directory: Path, keep: set[str]) -> None:
    ckpts = sorted(directory.glob("ckpt-*.safetensors"))
    for old in ckpts[:-KEEP]:
        if old.name in keep:
            continue
        old.unlink(missing_ok=True)
        old.with_name(_state_name(old.name)).unlink(missing_ok=True)


def latest(directory: str | Path) -> dict[str, Any] | None:
    """The pointer of the newest complete checkpoint, or None when there is none."""
    pointer = Path(directory) / POINTER
    if not pointer.exists():
        return None
    info = read_json(pointer, EmkitError, "the checkpoint pointer")
    if not isinstance(info, dict) or not isinstance(info.get("weights"), str) \
            or not isinstance(info.get("state"), str):
        raise EmkitError(f"Checkpoint pointer {pointer} does not name a weights and a state file")
    return info


def candidates(directory: str | Path) -> list[tuple[Path, Path]]:
    """(weights, state) pairs on disk, newest step first; the pointer's pair leads."""
    directory = Path(directory)
    pairs = []
    for weights in directory.glob("ckpt-*.safetensors"):
        match = _STEM.fullmatch(weights.name)
        if match:
            pairs.append((int(match.group(1)), weights, directory / _state_name(weights.name)))
    ordered = [(w, s) for _, w, s in sorted(pairs, key=lambda p: p[0], reverse=True)]
    try:
        info = latest(directory)
    except EmkitError:
        info = None  # a damaged pointer: the files on disk still say what exists
    if info is not None:
        lead = (directory / Path(info["weights"]).name, directory / Path(info["state"]).name)
        ordered = [lead] + [p for p in ordered if p != lead]
    return ordered


def _read_pair(weights: Path, state: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Both files of one checkpoint; the error names the file that is actually broken."""
    for path in (weights, state):
        if not path.is_file():
            raise EmkitError(f"{path.name} is missing")
    try:
        tensors = load_file(str(weights))
    except Exception as exc:  # noqa: BLE001 - name the file whatever went wrong
        raise EmkitError(f"{weights.name} is unreadable ({type(exc).__name__}: {exc})") from exc
    try:
        state_dict = torch.load(state, map_location="cpu", weights_only=True)
        step = int(state_dict["step"])
        state_dict["step"] = step
        if not isinstance(state_dict.get("optimizers"), dict) or not isinstance(state_dict.get("extra"), dict):
            raise ValueError("optimizers/extra are missing")
    except Exception as exc:  # noqa: BLE001
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise EmkitError(f"{state.name} is unreadable ({type(exc).__name__}: {first})") from exc
    return tensors, state_dict


def load_checkpoint(
    directory: str | Path,
    *,
    modules: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    warn: Callable[[str], None] = print_warning,
) -> dict[str, Any] | None:
    """Restore the newest readable checkpoint into ``modules``/``optimizers``; return its ``extra``.

    Returns None when the directory holds no checkpoint. A checkpoint that cannot be
    read is skipped with one warning naming the broken file; if none can be read the
    error lists every one tried.
    """
    directory = Path(directory)
    pairs = candidates(directory)
    if not pairs:
        return None
    broken: list[str] = []
    for weights_path, state_path in pairs:
        try:
            tensors, state = _read_pair(weights_path, state_path)
        except EmkitError as exc:
            broken.append(str(exc))
            continue
        if broken:
            warn(f"resuming from {weights_path.name} in {directory}: the newer checkpoint is broken "
                 f"({'; '.join(broken)})")
        _apply(weights_path, tensors, state, modules, optimizers)
        return {"step": state["step"], **state["extra"]}
    raise EmkitError(f"No readable checkpoint in {directory}: " + "; ".join(broken))


def _apply(weights_path: Path, tensors: dict[str, torch.Tensor], state: dict[str, Any],
           modules: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer]) -> None:
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
