"""The package's ``rdf.yaml`` (bioimage.io model spec 0.5) as a plain mapping.

Built without the ``bioimageio`` packages, so exporting needs none of them; validation
(``validate``) checks the result with them when installed. The tensors:

* input ``input``: (batch, channel, y, x) float32 in the image's own intensity units;
  ``preprocessing`` is the run's normalisation (``preprocessing.input_steps``). The
  spatial size is ``min + n * step``: ``step`` is the network's ``size_multiple``
  (the ONNX weights need it; the TorchScript weights pad any size themselves) and
  ``min`` the smallest such size whose output keeps a pixel after cropping the halo;
* outputs, same spatial size as the input (``size`` refers to the input's axes):
  ``image`` (float32 in [0, 1]) for restoration/pretext runs, or ``probability``
  (float32) and ``mask`` (uint8) for segmentation. The activation is inside the
  weights, so there is no post-processing step. Every spatial output axis carries
  ``halo``: emkit's receptive-field margin (``predict.tile_grid.halo``) rounded up to
  ``size_multiple``, so a tiler that crops it from tiles whose sides divide by the
  multiple gets the whole-image result.

``config.emkit`` keeps emkit's own facts (task, output kind, threshold, size multiple,
receptive field, the training data's normalisation, the attached statistics of the
training inputs when the run has them: ``input_stats``); the package loader reads them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from emkit.predict.model_loading import LoadedModel

FORMAT_VERSION = "0.5.12"
CITATION = {
    "text": "Kazimi, B., Ruzaeva, K., Sandfeld, S.: Self-Supervised Learning with GANs for Electron Microscopy. "
            "CVPR Workshops (CV4MS) 2024",
    "doi": "10.48550/arXiv.2402.18286",
}


@dataclasses.dataclass(frozen=True)
class PackageFiles:
    """Names (inside the package) and SHA-256 digests of the files ``rdf.yaml`` refers to."""

    sha256: dict[str, str]
    torchscript: str
    onnx: str
    test_input: str
    test_outputs: dict[str, str]
    #: Images (TIFF) of the test tensors for people: "input" and the output ids.
    samples: dict[str, str]
    cover: str
    documentation: str
    config: str
    #: The generator's safetensors (spec in its metadata): what ``init=<package>`` fine-tunes from.
    generator: str = ""
    #: The training inputs' statistics (``input_stats.json``), when the run has them.
    input_stats: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class PackageFacts:
    """What the description states about the model beyond the run itself."""

    name: str
    description: str
    authors: list[str]
    halo: int
    min_size: int
    preprocessing: list[dict[str, Any]]
    torch_version: str
    opset: int
    license: str = "MIT"
    tags: tuple[str, ...] = ()


def output_ids(kind: str) -> list[str]:
    return ["image"] if kind == "image" else ["probability", "mask"]


def build_rdf(model: LoadedModel, facts: PackageFacts, files: PackageFiles) -> dict[str, Any]:
    """The complete ``rdf.yaml`` mapping (see the module docstring)."""
    from emkit import __version__

    head = model.head
    return {
        "type": "model",
        "format_version": FORMAT_VERSION,
        "name": facts.name,
        "description": facts.description,
        "authors": [{"name": a} for a in facts.authors],
        "cite": [CITATION],
        "license": facts.license,
        "tags": ["emkit", "electron-microscopy", "pytorch", *facts.tags],
        "documentation": _file(files, files.documentation),
        "covers": [_file(files, files.cover)],
        "attachments": [_file(files, name) for name in (files.config, files.generator, files.input_stats) if name],
        "inputs": [_input(model, facts, files)],
        "outputs": [_output(oid, model, facts, files) for oid in output_ids(head.kind)],
        "weights": {
            "torchscript": {**_file(files, files.torchscript), "pytorch_version": facts.torch_version,
                            "comment": f"emkit {__version__} export: traced generator inside a scripted "
                            "wrapper ([0, 1] -> 2x - 1, padding to the size multiple, output activation)"},
            "onnx": {**_file(files, files.onnx), "opset_version": facts.opset, "parent": "torchscript",
                     "comment": "exported by emkit from the same trained generator and wrapper "
                     "(without the padding: H and W must divide by the size multiple)"},
        },
        "config": {"emkit": {**_emkit_config(model, facts), "input_stats": files.input_stats}},
    }


def _file(files: PackageFiles, name: str) -> dict[str, str]:
    return {"source": name, "sha256": files.sha256[name]}


def _space(axis: str, size: Any, halo: Optional[int] = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "space", "id": axis, "size": size}
    if halo:
        out["halo"] = halo
    return out


def _input(model: LoadedModel, facts: PackageFacts, files: PackageFiles) -> dict[str, Any]:
    names = ["intensity"] if model.in_channels == 1 else [f"c{i}" for i in range(model.in_channels)]
    return {
        "id": "input",
        "description": "EM image in its own intensity units (normalised by the pre-processing as in training)",
        "axes": [{"type": "batch"}, {"type": "channel", "channel_names": names},
                 *(_space(a, {"min": facts.min_size, "step": model.size_multiple}) for a in ("y", "x"))],
        "test_tensor": _file(files, files.test_input),
        "sample_tensor": _file(files, files.samples["input"]),
        "data": {"type": "float32"},
        # how tilers pad the image border by the halo: reflection, like emkit's own padding to the multiple
        "pad": {"mode": "reflect"},
        "preprocessing": facts.preprocessing,
    }


def _output(oid: str, model: LoadedModel, facts: PackageFacts, files: PackageFiles) -> dict[str, Any]:
    head = model.head
    if oid == "mask":
        channels = ["label"]
        classes = 2 if head.kind == "binary" else head.channels
        data: dict[str, Any] = {"type": "uint8", "values": list(range(classes))}
        text = (f"1 where the foreground probability > {head.threshold}" if head.kind == "binary"
                else "argmax class label")
    else:
        channels = _channel_names(oid, head.kind, head.channels)
        data = {"type": "float32", "range": [0.0, 1.0]}
        text = {"image": "restored image in [0, 1]", "binary": "foreground probability (sigmoid)",
                "multiclass": "class probabilities (softmax over channels)"}[head.kind if oid != "image" else "image"]
    return {
        "id": oid,
        "description": text,
        "axes": [{"type": "batch"}, {"type": "channel", "channel_names": channels},
                 *(_space(a, {"tensor_id": "input", "axis_id": a}, facts.halo) for a in ("y", "x"))],
        "test_tensor": _file(files, files.test_outputs[oid]),
        "sample_tensor": _file(files, files.samples[oid]),
        "data": data,
    }


def _channel_names(oid: str, kind: str, channels: int) -> list[str]:
    if kind == "binary":
        return ["foreground"]
    if kind == "multiclass":
        return [f"class{i}" for i in range(channels)]
    return [oid] if channels == 1 else [f"{oid}{i}" for i in range(channels)]


def _emkit_config(model: LoadedModel, facts: PackageFacts) -> dict[str, Any]:
    from emkit import __version__

    head = model.head
    trained = model.spec.get("trained_with") or {}
    return {
        "emkit_version": __version__,
        "generator": {"name": model.name, "config": model.spec.get("config", {})},
        "task": model.task,
        "pretext": model.pretext,
        "output_kind": head.kind,
        "threshold": head.threshold if head.kind == "binary" else None,
        "size_multiple": model.size_multiple,
        "receptive_field": model.receptive_field,
        "halo": facts.halo,
        "training_data": trained.get("data"),
        "normalization": {k: model.run_data.get(k) for k in
                          ("normalize", "scale", "percentile_low", "percentile_high", "mean", "std")
                          if k in model.run_data},
    }
