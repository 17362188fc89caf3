"""The exported generator: ``generator.safetensors`` + ``generator.json``.

The JSON (also embedded in the safetensors metadata, so a lone weights file is enough)
names the generator plugin and its full config, so fine-tuning and prediction rebuild
the exact architecture before loading weights. Loading never executes code, and a spec
is validated (shape, then the config against the generator's declared ranges) before
any tensor is built, so crafted metadata gives one line, not a traceback or a hang.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from emkit.storage.atomic import write_atomic, write_text_atomic
from emkit.errors import EmkitError
from emkit.storage.oserrors import storage_operation

WEIGHTS = "generator.safetensors"
SPEC = "generator.json"
META_KEY = "emkit_generator"

#: How images map to the generator's space (see emkit/plugin_api/image_space.py).
NORMALIZATION = {"input": "unit", "model": "2x-1"}

#: The spec's fields: key -> (JSON type, required). The generator ``config`` is checked
#: against the generator plugin's Config, whose fields declare their ranges.
SPEC_FIELDS: dict[str, tuple[type, bool]] = {
    "name": (str, True),
    "config": (dict, True),
    "emkit_version": (str, False),
    "normalization": (dict, False),
    "trained_with": (dict, False),
}
MAX_SPEC_BYTES = 1 << 20


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
    """Path of the weights file named by ``init``: a run directory, a .safetensors file, or an
    emkit bioimage.io package (its zip or folder, whose attached generator weights are used)."""
    path = Path(init)
    if path.suffix.lower() == ".zip" or (path.is_dir() and (path / "rdf.yaml").exists()):
        return package_weights(path)
    if path.is_dir():
        path = path / WEIGHTS
        if not path.exists():
            raise EmkitError(
                f"{init} has no {WEIGHTS}: is it an emkit run directory whose training finished?"
            )
    elif not path.exists():
        raise EmkitError(f"init={init}: no such run directory or weights file")
    elif path.suffix != ".safetensors":
        raise EmkitError(f"init={init}: expected a run directory, a .safetensors file or a bioimage.io package")
    return path


def package_weights(package: Path) -> Path:
    """The generator weights attached to an emkit bioimage.io package (a zip is unpacked once
    into emkit's cache, named by the zip's digest: ``$XDG_CACHE_HOME/emkit/packages/<sha>/``)."""
    import hashlib
    import os
    import zipfile

    if package.is_dir():
        found = package / WEIGHTS
    else:
        if not package.exists():
            raise EmkitError(f"init={package}: no such bioimage.io package")
        digest = hashlib.sha256(package.read_bytes()).hexdigest()[:16]
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "emkit" / "packages" / digest
        found = cache / WEIGHTS
        if not found.exists():
            try:
                with zipfile.ZipFile(package) as archive:
                    if WEIGHTS not in archive.namelist():
                        raise EmkitError(f"init={package}: the package has no attached {WEIGHTS} (not exported by "
                                         "emkit >= 0.1 with its generator); fine-tune from the run instead")
                    data = archive.read(WEIGHTS)
            except zipfile.BadZipFile:
                raise EmkitError(f"init={package}: not a zip archive") from None
            write_atomic(found, lambda tmp: tmp.write_bytes(data))
    if not found.exists():
        raise EmkitError(f"init={package}: the package has no attached {WEIGHTS}")
    return found


def read_spec(weights: Path) -> dict[str, Any]:
    """The validated generator spec of a weights file (embedded metadata, else the JSON beside it).

    Validated before any tensor is built: see ``validate_spec``.
    """
    try:
        with safe_open(str(weights), framework="pt") as fh:
            meta = fh.metadata() or {}
    except Exception as exc:  # noqa: BLE001
        raise EmkitError(f"{weights} is not a readable safetensors file: {exc}") from exc
    if META_KEY in meta:
        return validate_spec(_parse_json(meta[META_KEY], f"{weights} (metadata {META_KEY!r})"), weights)
    beside = weights.with_name(SPEC)
    if beside.exists():
        with storage_operation("read", beside):
            raw = beside.read_bytes()
        return validate_spec(_parse_json(raw, str(beside)), beside)
    raise EmkitError(f"{weights} carries no generator spec and has no {SPEC} beside it")


def _parse_json(raw: str | bytes, where: str) -> Any:
    if len(raw) > MAX_SPEC_BYTES:
        raise EmkitError(f"{where}: the generator spec is {len(raw)} bytes, more than {MAX_SPEC_BYTES}")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and bad UTF-8 are ValueErrors
        raise EmkitError(f"{where}: the generator spec is not valid JSON ({exc})") from None


def validate_spec(spec: Any, where: str | Path) -> dict[str, Any]:
    """Check a spec's shape (``SPEC_FIELDS``) and its generator config against the plugin's
    declared ranges (width, blocks, channels, ...), so hostile metadata never sizes a tensor."""
    if not isinstance(spec, dict):
        raise EmkitError(f"{where}: the generator spec must be a JSON object, got {type(spec).__name__}")
    for key, (kind, required) in SPEC_FIELDS.items():
        if key not in spec:
            if required:
                raise EmkitError(f"{where}: the generator spec has no {key!r}")
            continue
        if not isinstance(spec[key], kind):
            raise EmkitError(f"{where}: the generator spec's {key!r} must be a {kind.__name__}, "
                             f"got {type(spec[key]).__name__}")
    if not spec["name"] or len(spec["name"]) > 100:
        raise EmkitError(f"{where}: the generator spec's 'name' must be a plugin name, got {spec['name']!r}")
    from emkit import registry
    from emkit.config.coerce import build_dataclass, to_dict

    try:
        cls = registry.load("generator", spec["name"])
        config = build_dataclass(cls.Config, spec["config"], "generator", owner=f"generator {spec['name']!r}")
    except EmkitError as exc:
        raise EmkitError(f"{where}: {exc}") from None
    return {**spec, "config": to_dict(config)}


def load_tensors(weights: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(weights))
    except Exception as exc:  # noqa: BLE001
        raise EmkitError(f"Cannot read weights {weights}: {exc}") from exc
