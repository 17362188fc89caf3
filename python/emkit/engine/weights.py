"""The exported generator: ``generator.safetensors`` + ``generator.json``.

The JSON (also embedded in the safetensors metadata, so a lone weights file is enough)
names the generator plugin and its full config, so fine-tuning and prediction rebuild
the exact architecture before loading weights. Loading never executes code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from emkit.engine.atomic import write_atomic, write_text_atomic
from emkit.errors import EmkitError

WEIGHTS = "generator.safetensors"
SPEC = "generator.json"
META_KEY = "emkit_generator"

#: How images map to the generator's space (see emkit/plugin_api/image_space.py).
NORMALIZATION = {"input": "unit", "model": "2x-1"}


def export_generator(run_dir: str | Path, spec: dict[str, Any], generator: torch.nn.Module) -> Path:
    """Write the generator's weights and spec into ``run_dir`` atomically."""
    run_dir = Path(run_dir)
    spec = {**spec, "normalization": NORMALIZATION}
    tensors = {k: v.detach().cpu().contiguous() for k, v in generator.state_dict().items()}
    text = json.dumps(spec, indent=1)
    write_atomic(run_dir / WEIGHTS, lambda p: save_file(tensors, str(p), metadata={META_KEY: text}))
    write_text_atomic(run_dir / SPEC, text)
    return run_dir / WEIGHTS


def resolve_weights(init: str | Path) -> Path:
    """Path of the weights file named by ``init`` (a run directory or a .safetensors file)."""
    path = Path(init)
    if path.is_dir():
        path = path / WEIGHTS
        if not path.exists():
            raise EmkitError(
                f"{init} has no {WEIGHTS}: is it an emkit run directory whose training finished?"
            )
    elif not path.exists():
        raise EmkitError(f"init={init}: no such run directory or weights file")
    elif path.suffix != ".safetensors":
        raise EmkitError(f"init={init}: expected a run directory or a .safetensors file")
    return path


def read_spec(weights: Path) -> dict[str, Any]:
    """The generator spec of a weights file (embedded metadata, else the JSON beside it)."""
    try:
        with safe_open(str(weights), framework="pt") as fh:
            meta = fh.metadata() or {}
    except Exception as exc:  # noqa: BLE001
        raise EmkitError(f"{weights} is not a readable safetensors file: {exc}") from exc
    if META_KEY in meta:
        return json.loads(meta[META_KEY])
    beside = weights.with_name(SPEC)
    if beside.exists():
        return json.loads(beside.read_text())
    raise EmkitError(f"{weights} carries no generator spec and has no {SPEC} beside it")


def load_tensors(weights: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(weights))
    except Exception as exc:  # noqa: BLE001
        raise EmkitError(f"Cannot read weights {weights}: {exc}") from exc
