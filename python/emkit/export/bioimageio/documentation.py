"""The package's ``README.md`` (its ``documentation``): what the model does and how to use it.

Written for a microscopist who opens the package in Fiji, ilastik or napari: the task,
what the pre-processing does to the pixels and what was baked into the weights instead,
the size rules and the halo for tiling, where the test image came from, how the model
was trained (with its last validation numbers, whatever they are), and how to cite.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

from emkit.export.bioimageio.preprocessing import describe_steps
from emkit.export.bioimageio.rdf import CITATION, PackageFacts
from emkit.predict.model_loading import LoadedModel

TASK_TEXT = {
    "segmentation": "segments the image: a foreground probability per pixel and a thresholded mask",
    "denoise": "removes noise from the image",
    "background-removal": "removes noise and background from the image",
    "super-resolution": "restores a sharper image (same pixel grid)",
}


@dataclasses.dataclass(frozen=True)
class DocContext:
    """Facts for the documentation beyond the model and the rdf facts."""

    run: Path
    test_origin: str
    test_shape: tuple[int, ...]
    #: Stored pixel type of the test image (the pre-processing is the one for this type).
    test_dtype: str
    last_metrics: Optional[dict[str, Any]]


def write_documentation(path: Path, model: LoadedModel, facts: PackageFacts, ctx: DocContext) -> Path:
    parts = [_summary(model, facts, ctx), _processing(model, facts, ctx), _sizes(model, facts),
             _training(model, ctx), _validation(ctx), _usage(), _citation(facts)]
    path.write_text("\n\n".join(parts) + "\n")
    return path


def _summary(model: LoadedModel, facts: PackageFacts, ctx: DocContext) -> str:
    what = TASK_TEXT.get(model.task or "", "reconstructs the image (self-supervised pretext model)")
    return (f"# {facts.name}\n\nAn emkit model (generator `{model.name}`) that {what}. Exported by `emkit export "
            f"{ctx.run.name} --format bioimageio` from the run directory `{ctx.run.name}`.\n\n{facts.description}")


def _processing(model: LoadedModel, facts: PackageFacts, ctx: DocContext) -> str:
    head = model.head
    baked = {"image": "the output map `(y + 1) / 2` clamped to [0, 1]",
             "binary": f"a sigmoid (output `probability`) and the threshold {head.threshold} (output `mask`)",
             "multiclass": "a softmax over channels (output `probability`) and the argmax (output `mask`)"}[head.kind]
    return (
        "## Pre- and post-processing\n\n"
        "Feed the image in its own intensity units (as stored in the file). The pre-processing in `rdf.yaml` "
        "normalises it the way emkit's `predict` does for this run "
        f"(run setting `data.normalize: {model.run_data.get('normalize', 'auto')}`) for images stored as "
        f"`{ctx.test_dtype}`, the type of the run's data:\n\n"
        f"    {describe_steps(facts.preprocessing)}\n\n"
        "A `scale_range` step clips to per-image percentiles exactly as emkit does, except that the spec divides by "
        "`hi - lo + 1e-6` where emkit divides by `hi - lo` (a relative difference of 1e-6 / (hi - lo)).\n\n"
        "Baked into the weights (not expressible as spec steps, or needed by every consumer alike): the map of "
        f"[0, 1] intensities to the network's `2x - 1` space, and {baked}. So there is no post-processing step; "
        "the outputs are final. The TorchScript weights also pad any H, W to the size multiple by reflection "
        "and crop back, exactly as emkit's generators do; the ONNX weights need H and W divisible by it."
    )


def _sizes(model: LoadedModel, facts: PackageFacts) -> str:
    m = model.size_multiple
    rf = model.receptive_field
    return (
        "## Sizes and tiling\n\n"
        f"- spatial size: `{facts.min_size} + n * {m}` pixels (a multiple of {m}, the network's pooling factor);\n"
        f"- receptive field: {rf if rf is not None else 'unknown'} px; halo: **{facts.halo} px** on every side of "
        "every output (half the receptive field plus half the multiple, rounded up to the multiple);\n"
        f"- tiles whose sides and starts are multiples of {m}, whose outputs are kept only farther than the halo "
        "from interior tile edges, reproduce the whole-image result (up to float rounding). Tools that honour "
        "`halo` (bioimage.io core, deepImageJ, ilastik) do this themselves."
    )


def _training(model: LoadedModel, ctx: DocContext) -> str:
    trained = model.spec.get("trained_with") or {}
    data = model.run_data
    lines = [
        "## Training and test data\n",
        f"- generator: `{model.name}` with `{model.spec.get('config', {})}`;",
        f"- trained with task `{trained.get('task')}` / pretext `{trained.get('pretext')}` on "
        f"`{trained.get('data') or data.get('name')}` for {trained.get('steps', '?')} optimiser steps; the full "
        "training configuration is attached as `config.yaml`;",
        f"- test tensors: {ctx.test_origin}, shape {list(ctx.test_shape)} (centre-cropped or padded to the size rule).",
    ]
    return "\n".join(lines)


def _validation(ctx: DocContext) -> str:
    if ctx.last_metrics:
        shown = ", ".join(f"`{k}` {v}" for k, v in ctx.last_metrics.items())
        measured = f"Last validation epoch of the run (emkit's own metrics on the run's validation split): {shown}."
    else:
        measured = "The run recorded no validation metrics."
    return (f"## Validation\n\n{measured} Judge them against the run's baselines (identity / all-background) in "
            "its `metrics.csv`; a short run is a smoke test, not a result.\n\n"
            "The package is checked with bioimage.io core (`bioimageio test <package>.zip`; emkit runs it after the "
            "export when the `emkit[bioimageio]` extra is installed): the test input, run through the pre-processing "
            "and each weight format, must reproduce the test outputs, and inference must run for several valid "
            "sizes and batch sizes.")


def _usage() -> str:
    return (
        "## Use it\n\n"
        "- **Fiji / deepImageJ**: Plugins > deepImageJ > Install model, choose this `.zip`; then deepImageJ Run.\n"
        "- **ilastik**: the Neural Network Workflow, load this `.zip` as the model.\n"
        "- **napari**: the emkit napari plugin opens it; or in Python with bioimage.io core: "
        "`bioimageio predict --inputs image.npy <package>.zip`.\n"
        "- **Python, emkit only**: `emkit.export.bioimageio.load_package('<package>.zip').predict(image)`.\n"
        "- check it: `bioimageio test <package>.zip` (runs the test input and compares with the test output)."
    )


def _citation(facts: PackageFacts) -> str:
    return (f"## Citation and licence\n\n{CITATION['text']}. doi:{CITATION['doi']}\n\n"
            f"Licence: {facts.license} (see the `license` field).")
