"""Predict a list of files into an output folder: sources → tiled engine → TIFF writers.

For each input: open it as a strip source, create one output TIFF per output
(``postprocess.OutputHead.outputs``: the prediction, plus the residual and the TTA
spread when asked for) carrying the input's metadata, then predict every image of the
file (a stack gives a stack) through ``TiledPredictor``, fitting the intensity
normalisation per image as training did, after ``input_checks`` looked at its values
(NaN/Inf refused or filled, constant and tiny images reported). Outputs appear under
their final names only when complete. A file that cannot be used stops the run with one
``BadFileError`` line (``on_error="stop"``) or is skipped and recorded in the
``PredictReport`` (``"skip"``).

``Extras`` adds what explains a prediction: every image compared with the training
inputs (``input_check``: a warning line for an image outside), the tiling deviation
measured once per run where tiling is not exact (``tiling_check``), and a labelled
preview of each file's first image (``preview``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from emkit.data.input_stats import InputCheck
from emkit.data.intensity import IntensityRule, Scaling
from emkit.data.readers import BadFileError, display_path
from emkit.predict.input_check import InputChecker
from emkit.predict.inputs.checks import ON_ERROR, PredictReport, inspect_image
from emkit.predict.inputs.files import InputFile
from emkit.predict.inputs.sources import ImageSource, open_source
from emkit.predict.model_loading import LoadedModel
from emkit.predict.preview import PreviewRows, preview_path, write_preview
from emkit.predict.progress import PredictProgress
from emkit.predict.tiled_predictor import RowWriter, TiledPredictor
from emkit.predict.tiling_check import TilingDeviation, TilingProbe
from emkit.predict.writers import TiffStripWriter


@dataclasses.dataclass
class Extras:
    """What ``predict_files`` adds to the predictions (all off by default)."""

    #: Write ``<stem>_residual.tif`` (restoration: normalised input − prediction).
    residual: bool = False
    #: Write ``<stem>_preview.png`` of each file's first image.
    preview: bool = False
    #: Compare every image with the training inputs.
    checker: Optional[InputChecker] = None
    #: Measure the tiling deviation on the first image with two tiles (once; cleared when done).
    tiling: bool = False


def predict_files(
    model: LoadedModel,
    predictor: TiledPredictor,
    files: list[InputFile],
    out_dir: str | Path,
    normalization: IntensityRule,
    *,
    key: Optional[str] = None,
    progress: Optional[PredictProgress] = None,
    on_error: str = "stop",
    nan: str = "error",
    report: Optional[PredictReport] = None,
    extras: Optional[Extras] = None,
) -> list[Path]:
    """Predict every file; returns the written output paths in order (skips go to ``report``)."""
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    progress = progress or PredictProgress(len(files), enabled=False)
    report = report if report is not None else PredictReport()
    extras = extras or Extras()
    written: list[Path] = []
    for item in files:
        try:
            with open_source(item.path, model.in_channels, key=key) as source:
                written += predict_source(model, predictor, source, item, Path(out_dir), normalization, progress,
                                          nan=nan, report=report, extras=extras)
        except BadFileError as exc:
            if on_error == "stop":
                raise
            report.skip(exc)
        progress.file_done()
    return written


def open_writers(model: LoadedModel, predictor: TiledPredictor, source: ImageSource, item: InputFile,
                 out_dir: Path, residual: bool, writers: dict[str, TiffStripWriter]) -> None:
    """One new TIFF per output of ``item``, with the input's metadata, into ``writers`` (which
    then holds every one opened, for the caller to close, should a later one fail)."""
    n, _, h, w = source.shape
    head = model.head
    for spec in head.outputs(residual=residual, spread=predictor.settings.spread):
        extra = {"source": item.path.name, "emkit": {**model.describe(), "output": spec.suffix}}
        if spec.suffix == "mask":
            extra["emkit"]["threshold" if head.kind == "binary" else "labels"] = (
                head.threshold if head.kind == "binary" else "argmax")
        writers[spec.suffix] = TiffStripWriter(
            out_dir / f"{item.stem}_{spec.suffix}.tif", (n, spec.channels, h, w), spec.dtype,
            source.meta.tiff_kwargs(extra),
        )


def predict_source(
    model: LoadedModel,
    predictor: TiledPredictor,
    source: ImageSource,
    item: InputFile,
    out_dir: Path,
    normalization: IntensityRule,
    progress: PredictProgress,
    *,
    nan: str = "error",
    report: Optional[PredictReport] = None,
    extras: Optional[Extras] = None,
) -> list[Path]:
    """Predict all images of one open source into new TIFFs named after ``item.stem``."""
    n, _, h, w = source.shape
    report = report if report is not None else PredictReport()
    extras = extras or Extras()
    progress.start_file(display_path(item.path.name), n * predictor.count_tiles(h, w))
    writers: dict[str, TiffStripWriter] = {}
    ok = False
    preview = PreviewRows(h, w) if extras.preview else None
    try:
        open_writers(model, predictor, source, item, out_dir, extras.residual, writers)
        for i in range(n):
            where = display_path(item.path) + ("" if n == 1 else f" (image {i})")
            predict_one(model, predictor, source, i, normalization, writers, progress.tiles_done, report, extras,
                        where, nan, preview if i == 0 else None)
        ok = True
    finally:
        for writer in writers.values():
            writer.close(ok)
    paths = [wr.path for wr in writers.values()]
    if preview is not None and preview.panels:
        paths.append(write_preview(preview.panels, model.head.kind, preview_path(out_dir, item.stem),
                                   item.stem + item.path.suffix))
    return paths


def predict_one(model: LoadedModel, predictor: TiledPredictor, source: ImageSource, i: int,
                normalization: IntensityRule, writers: dict[str, TiffStripWriter], on_tiles: Callable[[int], None],
                report: PredictReport, extras: Extras, where: str, nan: str,
                preview: Optional[PreviewRows]) -> tuple[Optional[InputCheck], Optional[TilingDeviation]]:
    """Image ``i`` of ``source``: values checked, normalisation fitted, compared, predicted, written.

    Returns the comparison with the training inputs and the tiling deviation (None: not made).
    """
    _, _, h, w = source.shape
    checked = inspect_image(source, i, nan, report)
    scaling = normalization.fit(source.dtype, lambda limit: checked.clean(source.sample(i, limit)), str(source.path))

    def read(r0: int, r1: int) -> np.ndarray:
        return checked.clean(source.read_rows(i, r0, r1))

    result = None
    if extras.checker is not None:
        result = extras.checker.check(source, i, scaling, where, checked.clean)
        if result is not None and result.outside:
            report.warn(f"{where}: {result.summary()}")
    write = row_writer(model, writers, i, read, scaling, preview)
    probe = TilingProbe(predictor, read, h, w, scaling) if extras.tiling and TilingProbe.applies(
        predictor, h, w) else None
    predictor.predict(read, h, w, scaling, probe.watch(write) if probe else write, on_tiles=on_tiles)
    deviation = None
    if probe is not None:
        extras.tiling = False
        deviation = probe.result()
        if deviation is not None:
            report.inform(deviation.summary(predictor, model.name, where))
    return result, deviation


def row_writer(model: LoadedModel, writers: dict[str, TiffStripWriter], i: int,
               read: Callable[[int, int], np.ndarray], scaling: Scaling, preview: Optional[PreviewRows]) -> RowWriter:
    """Final output rows of image ``i`` → the TIFFs (+ the preview); the residual reads the input rows again."""
    head = model.head
    residual = head.kind == "image" and ("residual" in writers or preview is not None)

    def write(r0: int, r1: int, values: np.ndarray) -> None:
        unit = scaling(read(r0, r1)) if residual or preview is not None else None
        rows = head.finalize(values, unit if residual else None)
        for suffix, block in rows.items():
            if suffix in writers:
                writers[suffix].write(i, r0, block)
        if preview is not None:
            preview.add("input", r0, unit)
            for suffix, block in rows.items():
                preview.add(suffix, r0, block)

    return write


class ArrayOutput:
    """``TiffStripWriter``'s ``write`` into an ``(N, C, H, W)`` array."""

    def __init__(self, shape: tuple[int, int, int, int], dtype: np.dtype) -> None:
        self.array = np.zeros(shape, dtype)

    def write(self, n: int, r0: int, rows: np.ndarray) -> None:
        self.array[n, :, r0 : r0 + rows.shape[1]] = rows


def predict_arrays(model: LoadedModel, predictor: TiledPredictor, source: ImageSource, normalization: IntensityRule,
                   *, nan: str = "error", report: Optional[PredictReport] = None,
                   on_tiles: Optional[Callable[[int], None]] = None,
                   extras: Optional[Extras] = None) -> dict[str, np.ndarray]:
    """Every image of ``source`` into arrays, one per output of shape ``(N, C, H, W)`` -- the
    values ``predict_source`` writes into its TIFFs: ``pred``, or ``prob`` + ``mask``, plus
    ``residual`` (``extras.residual``, restoration) and ``spread`` (a predictor with ``spread``)."""
    n, _, h, w = source.shape
    report = report if report is not None else PredictReport()
    extras = dataclasses.replace(extras or Extras(), preview=False)
    extras.residual = extras.residual and model.head.kind == "image"
    outs: dict = {spec.suffix: ArrayOutput((n, spec.channels, h, w), spec.dtype)
                  for spec in model.head.outputs(residual=extras.residual, spread=predictor.settings.spread)}
    for i in range(n):
        where = display_path(source.path) + ("" if n == 1 else f" (image {i})")
        predict_one(model, predictor, source, i, normalization, outs, on_tiles or (lambda count: None), report,
                    extras, where, nan, None)
    return {suffix: out.array for suffix, out in outs.items()}
