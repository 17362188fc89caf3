"""Write a run as a bioimage.io model package (zip): ``export_package``.

Steps: load the run (``predict.model_loading``); pick and size the test image
(``sample``); write the TorchScript and ONNX weights with emkit's exporters (the same
wrapper as ``emkit export``); turn the run's normalisation into pre-processing steps
(``preprocessing``); run the test input through the package's own pre-processing and
TorchScript weights -- exactly what a consumer runs -- to make the test outputs; draw
the cover; write the documentation, ``rdf.yaml``, attach the run's ``config.yaml``, its
``generator.safetensors`` (so ``init=<package>`` can fine-tune from the package) and,
when the run has them, its training inputs' statistics (``input_stats.json``, so a
package's user can check new images as ``emkit predict`` does);
zip everything (written atomically). Validation with ``bioimageio.core`` follows when
asked for or when the extra is installed (``validate``).
"""

from __future__ import annotations

import dataclasses
import getpass
import hashlib
import re
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np
import tifffile
import torch
import yaml

from emkit.storage.atomic import write_atomic
from emkit.errors import EmkitError
from emkit.export.bioimageio.loader import load_torchscript
from emkit.export.bioimageio.preprocessing import apply_steps, input_steps
from emkit.export.bioimageio.rdf import PackageFacts, PackageFiles, build_rdf, output_ids
from emkit.predict.model_loading import CONFIG_FILE, LoadedModel
from emkit.predict.tile_grid import halo as rf_halo, round_up

if TYPE_CHECKING:
    from emkit.export.bioimageio.sample import TestImage

SUFFIX = ".bioimageio.zip"
#: The attached generator weights (the run's own file: its spec is in the safetensors metadata).
GENERATOR_FILE = "generator.safetensors"
#: The bioimage.io test refuses a test tensor whose values all lie within this of zero.
SMALLEST_TEST_VALUE = 1e-4


@dataclasses.dataclass(frozen=True)
class PackageOptions:
    """``--out``, ``--test-image``, ``--author`` of ``emkit export --format bioimageio``."""

    out: Optional[Path] = None
    test_image: Optional[Path] = None
    authors: Sequence[str] = ()


def default_path(run: Path) -> Path:
    """``<run>/<run name>.bioimageio.zip`` (beside a lone weights file: ``<stem>.bioimageio.zip``)."""
    return run / (run.resolve().name + SUFFIX) if run.is_dir() else run.with_name(run.stem + SUFFIX)


def package_halo(model: LoadedModel) -> int:
    """emkit's halo (``tile_grid.halo``) rounded up to the size multiple; 0 when the RF is unknown."""
    h = rf_halo(model.receptive_field, model.size_multiple)
    return 0 if h is None else round_up(h, model.size_multiple)


@dataclasses.dataclass
class PackageResult:
    """The written package and what the user should know about it (warnings)."""

    path: Path
    notes: list[str] = dataclasses.field(default_factory=list)


def export_package(run: str | Path, options: PackageOptions = PackageOptions()) -> PackageResult:
    """Write the package of ``run`` (see the module docstring)."""
    from emkit.predict.model_loading import load_model

    run = Path(run)
    model = load_model(run, "cpu")
    target = Path(options.out) if options.out is not None else default_path(run)
    if target.is_dir():
        target = target / default_path(run).name
    result = PackageResult(target)
    with tempfile.TemporaryDirectory(prefix="emkit-bioimageio-") as tmp:
        folder = Path(tmp)
        _write_contents(model, run, folder, options, result.notes)
        write_atomic(target, lambda t: _zip(folder, t))
    return result


@dataclasses.dataclass(frozen=True)
class _TestCase:
    image: "TestImage"
    raw: np.ndarray  # (1, C, H, W) float32: the test input
    seen: np.ndarray  # the same after pre-processing
    outputs: dict[str, np.ndarray]
    steps: list


def _write_contents(model: LoadedModel, run: Path, folder: Path, options: PackageOptions, notes: list[str]) -> None:
    from emkit.export.bioimageio.cover import write_cover
    from emkit.export.bioimageio.documentation import DocContext, write_documentation

    m = model.size_multiple
    halo = package_halo(model)
    min_size = 2 * halo + m
    facts = _facts(model, run, options, halo, min_size, [])
    torchscript, onnx = _write_weights(model, folder, facts.opset)
    module = load_torchscript(str(folder / torchscript))
    case = _pick_test_case(model, run, options.test_image, module, min_size, notes)
    facts = dataclasses.replace(facts, preprocessing=case.steps)
    np.save(folder / "test_input.npy", case.raw)
    samples = {"input": "sample_input.tif", **{oid: f"sample_output_{oid}.tif" for oid in case.outputs}}
    tifffile.imwrite(folder / samples["input"], np.squeeze(case.raw))
    for oid, arr in case.outputs.items():
        np.save(folder / f"test_output_{oid}.npy", arr)
        tifffile.imwrite(folder / samples[oid], np.squeeze(arr))
    write_cover(folder / "cover.png", case.seen[0, 0], {k: v[0] for k, v in case.outputs.items()}, model.head.kind,
                f"{facts.name}: test image")
    ctx = DocContext(run, case.image.origin, tuple(case.raw.shape), str(case.image.pixels.dtype), _last_metrics(run))
    write_documentation(folder / "README.md", model, facts, ctx)
    _copy_config(model, folder)
    (folder / GENERATOR_FILE).write_bytes(model.weights.read_bytes())  # for init=<package> fine-tuning
    files = PackageFiles({}, torchscript, onnx, "test_input.npy",
                         {oid: f"test_output_{oid}.npy" for oid in case.outputs}, samples, "cover.png", "README.md",
                         CONFIG_FILE, GENERATOR_FILE, _copy_input_stats(model, folder))
    files.sha256.update({p.name: _sha256(p) for p in folder.iterdir()})
    rdf = build_rdf(model, facts, files)
    (folder / "rdf.yaml").write_text(yaml.safe_dump(rdf, sort_keys=False, allow_unicode=True))


def _pick_test_case(model: LoadedModel, run: Path, image: Optional[Path], module: torch.jit.ScriptModule,
                    min_size: int, notes: list[str]) -> _TestCase:
    """The first candidate image whose every output has a value farther than 1e-4 from zero."""
    from emkit.export.bioimageio.sample import candidate_images, fit_size

    first: Optional[_TestCase] = None
    for image_ in candidate_images(model, run, image):
        pixels = fit_size(image_.pixels, min_size, model.size_multiple)
        steps = input_steps(model.run_data, pixels.dtype)
        raw = pixels[None].astype(np.float32)
        seen = apply_steps(steps, raw)
        with torch.inference_mode():
            result = module(torch.from_numpy(seen))
        values = result if isinstance(result, (tuple, list)) else (result,)
        outputs = {oid: v.numpy() for oid, v in zip(output_ids(model.head.kind), values)}
        case = _TestCase(image_, raw, seen, outputs, steps)
        if all(np.abs(v).max() >= SMALLEST_TEST_VALUE for v in outputs.values()):
            return case
        first = first or case
    assert first is not None
    empty = [oid for oid, v in first.outputs.items() if np.abs(v).max() < SMALLEST_TEST_VALUE]
    notes.append(f"{run}: output {', '.join(empty)} is all zero on every candidate test image "
                 f"(e.g. an empty mask of an undertrained model); the bioimage.io test refuses such test tensors "
                 "-- train longer or pass --test-image FILE")
    return first


def _facts(model: LoadedModel, run: Path, options: PackageOptions, halo: int, min_size: int,
           steps: list) -> PackageFacts:
    from emkit.export.onnx import OPSET

    what = model.task or f"{model.pretext or 'pretext'} pretext"
    name = _clean_name(f"emkit {run.resolve().name if run.is_dir() else run.stem} {model.name} {what}")
    init = model.run_config.get("init") or "random"
    description = (f"emkit {model.name} generator for {what} on electron-microscopy images (init: {init}). emkit "
                   "implements GAN-based self-supervised pretraining and fine-tuning (Kazimi et al., CVPR-W 2024).")
    authors = list(options.authors) or [_user_name()]
    tags = tuple(t for t in (model.task, model.pretext, model.name) if t)
    return PackageFacts(name, description, authors, halo, min_size, steps, torch.__version__.split("+")[0], OPSET,
                        tags=tags)


def _user_name() -> str:
    """The login name (the default author), or a placeholder where the system has none."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "emkit user"


def _clean_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_+\- ()]", "-", text).strip()
    return (name + " model")[:64] if len(name) < 5 else name[:64]


def _write_weights(model: LoadedModel, folder: Path, opset: int) -> tuple[str, str]:
    from emkit.export.description import describe
    from emkit.export.onnx import export_onnx
    from emkit.export.torchscript import export_torchscript

    ts, ox = "weights_torchscript.pt", "weights.onnx"
    export_torchscript(model, folder / ts, describe(model, fmt="torchscript", file=ts, input_dtype="float32",
                                                    pads=True))
    export_onnx(model, folder / ox, describe(model, fmt="onnx", file=ox, input_dtype="float32", pads=False),
                input_dtype="float32", opset=opset)
    return ts, ox


def _copy_config(model: LoadedModel, folder: Path) -> None:
    source = model.weights.parent / CONFIG_FILE
    if source.exists():
        (folder / CONFIG_FILE).write_bytes(source.read_bytes())
    else:
        (folder / CONFIG_FILE).write_text(yaml.safe_dump({"generator": model.spec}, sort_keys=False))


def _copy_input_stats(model: LoadedModel, folder: Path) -> Optional[str]:
    """The run's ``input_stats.json`` copied into the package (None: the run has none)."""
    from emkit.data.input_stats import STATS_FILE

    source = model.weights.parent / STATS_FILE
    if not source.is_file():
        return None
    (folder / STATS_FILE).write_bytes(source.read_bytes())
    return STATS_FILE


def _last_metrics(run: Path) -> Optional[dict]:
    from emkit.engine.runs.metrics_log import read_metrics

    path = run / "metrics.csv"
    if not path.exists():
        return None
    rows = [r for r in read_metrics(path) if r.get("kind") == "epoch"]
    if not rows:
        return None
    return {k: v for k, v in rows[-1].items() if k.startswith(("val_", "test_")) and v not in ("", None)} or None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _zip(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, p.name)
