"""Open a bioimage.io package written by emkit and predict with its TorchScript weights.

``load_package(path)`` accepts the ``.zip`` package, the folder it was unpacked into,
or its ``rdf.yaml``. Nothing in the package is executed as Python: ``rdf.yaml`` is read
with ``yaml.safe_load`` and the weights with ``torch.jit.load`` (a TorchScript archive
holds code for the TorchScript interpreter, not pickled Python objects). The
pre-processing is the one ``rdf.yaml`` declares (``preprocessing.apply_steps``).
Packages by other tools load too when their weights are TorchScript, their single
input is (batch, channel, y, x) and their pre-processing uses the supported steps.
``input_stats`` holds the attached statistics of the training inputs (emkit packages of
runs that recorded them; None otherwise), for ``emkit.data.input_stats.compare``.
"""

from __future__ import annotations

import dataclasses
import io
import warnings
import zipfile
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
import yaml

from emkit.errors import EmkitError
from emkit.export.bioimageio.preprocessing import AXES, apply_steps

#: Names a package's description may have (the spec writes the first).
RDF_NAMES = ("rdf.yaml", "bioimageio.yaml", "model.yaml")


@dataclasses.dataclass
class PackageModel:
    """A loaded package: metadata attributes and ``predict`` (see ``emkit.export.bioimageio``)."""

    name: str
    task: Optional[str]
    output_kind: str
    halo: int
    size_multiple: int
    threshold: Optional[float]
    #: Output tensor ids in the order the network returns them.
    outputs: list[str]
    #: The package's ``rdf.yaml`` as a mapping.
    rdf: dict[str, Any]
    module: torch.jit.ScriptModule
    preprocessing: list[dict[str, Any]]
    #: The training inputs' statistics (``emkit.data.input_stats.InputStats``), or None.
    input_stats: Optional[Any] = None

    def predict_all(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """Every output for a 2-D image (``(H, W)``) or ``(C, H, W)``; leading axes of size 1 dropped."""
        arr = np.asarray(image)
        if arr.ndim not in (2, 3):
            raise EmkitError(f"{self.name}: expected a 2-D image (H, W) or (C, H, W), got shape {arr.shape}")
        x = arr[None, None] if arr.ndim == 2 else arr[None]
        x = apply_steps(self.preprocessing, x, AXES)
        with torch.inference_mode():
            result = self.module(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
        values = result if isinstance(result, (tuple, list)) else (result,)
        return {name: _squeeze(v.numpy()) for name, v in zip(self.outputs, values)}

    def predict(self, image: np.ndarray) -> np.ndarray:
        """The first output (restored image or probabilities), float32: ``(H, W)`` or ``(C, H, W)``."""
        return self.predict_all(image)[self.outputs[0]]


def _squeeze(a: np.ndarray) -> np.ndarray:
    a = a[0]
    return a[0] if a.shape[0] == 1 else a


def load_package(path: str | Path) -> PackageModel:
    """The package at ``path`` (zip, folder or rdf.yaml); bad packages raise one ``EmkitError`` line."""
    path = Path(path)
    read, names = _reader(path)
    rdf_name = next((n for n in RDF_NAMES if n in names), RDF_NAMES[0])
    try:
        rdf = yaml.safe_load(read(rdf_name))
    except yaml.YAMLError as exc:
        raise EmkitError(f"{path}: {rdf_name} is not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(rdf, dict) or rdf.get("type") != "model":
        raise EmkitError(f"{path}: {rdf_name} does not describe a bioimage.io model (type: model)")
    weights = (rdf.get("weights") or {}).get("torchscript")
    if not weights or "source" not in weights:
        raise EmkitError(f"{path}: the package has no TorchScript weights (weights.torchscript.source)")
    try:
        module = load_torchscript(io.BytesIO(read(str(weights["source"]))))
    except RuntimeError as exc:
        first = (str(exc).strip().splitlines() or ["unreadable"])[0]
        raise EmkitError(f"{path}: {weights['source']} is not a TorchScript archive ({first})") from None
    inputs, outputs = rdf.get("inputs") or [], rdf.get("outputs") or []
    if len(inputs) != 1 or [a.get("id", a.get("type")) for a in inputs[0].get("axes", [])] != list(AXES):
        raise EmkitError(f"{path}: expected one input with axes {', '.join(AXES)}")
    emkit = ((rdf.get("config") or {}).get("emkit")) or {}
    return PackageModel(
        name=str(rdf.get("name")),
        task=emkit.get("task"),
        output_kind=str(emkit.get("output_kind", "image")),
        halo=_halo(outputs),
        size_multiple=int(emkit.get("size_multiple", 1)),
        threshold=emkit.get("threshold"),
        outputs=[str(o["id"]) for o in outputs],
        rdf=rdf,
        module=module,
        preprocessing=list(inputs[0].get("preprocessing") or []),
        input_stats=_input_stats(path, read, emkit.get("input_stats")),
    )


def _input_stats(path: Path, read: Any, name: Optional[str]) -> Optional[Any]:
    """The attached statistics (one ``EmkitError`` line when the file is unusable)."""
    import json

    from emkit.data.input_stats import InputStats

    if not name:
        return None
    try:
        data = json.loads(read(str(name)))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EmkitError(f"{path}: {name} is not valid JSON ({exc})") from None
    return InputStats.from_json(data, f"{path}: {name}")


def load_torchscript(source: Any) -> torch.jit.ScriptModule:
    """``torch.jit.load`` on the CPU in eval mode, without its deprecation notice (a path or a file object)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(source, map_location="cpu").eval()


def _halo(outputs: list[dict[str, Any]]) -> int:
    """The largest spatial halo of any output (0 when none is declared)."""
    return max((int(a.get("halo", 0)) for o in outputs for a in o.get("axes", []) if a.get("type") == "space"),
               default=0)


def _reader(path: Path):
    """(``read(name) -> bytes``, names of the top-level files) of the package at ``path``."""
    if path.is_file() and zipfile.is_zipfile(path):
        archive = zipfile.ZipFile(path)
        names = set(archive.namelist())

        def read_zip(name: str) -> bytes:
            if name not in names:
                raise EmkitError(f"{path}: the package lacks {name}")
            return archive.read(name)

        return read_zip, names
    if path.is_file() and path.name.endswith((".yaml", ".yml")):
        path = path.parent
    elif path.is_file():
        raise EmkitError(f"{path}: expected a bioimage.io package (.zip), its folder or its rdf.yaml")
    if not path.is_dir():
        raise EmkitError(f"{path}: no such package file or folder")
    root = path

    def read_dir(name: str) -> bytes:
        target = root / name
        if not target.is_file():
            raise EmkitError(f"{root}: the package lacks {name}")
        return target.read_bytes()

    return read_dir, {p.name for p in root.iterdir()}
