"""Predict a list of files into an output folder: sources → tiled engine → TIFF writers.

For each input: open it as a strip source, create one output TIFF per output kind
(``postprocess.OutputHead.outputs``) carrying the input's metadata, then predict every
image of the file (a stack gives a stack) through ``TiledPredictor``, fitting the
intensity normalisation per image as training did, after ``input_checks`` looked at its
values (NaN/Inf refused or filled, constant and tiny images reported). Outputs appear
under their final names only when complete. A file that cannot be used stops the run
with one ``BadFileError`` line (``on_error="stop"``) or is skipped and recorded in the
``PredictReport`` (``"skip"``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import numpy as np

from emkit.data.readers import BadFileError, display_path
from emkit.predict.inputs.checks import ON_ERROR, PredictReport, inspect_image
from emkit.predict.inputs.files import InputFile
from emkit.data.intensity import IntensityRule
from emkit.predict.model_loading import LoadedModel
from emkit.predict.progress import PredictProgress
from emkit.predict.inputs.sources import ImageSource, open_source
from emkit.predict.tiled_predictor import TiledPredictor
from emkit.predict.writers import TiffStripWriter


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
) -> list[Path]:
    """Predict every file; returns the written output paths in order (skips go to ``report``)."""
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    progress = progress or PredictProgress(len(files), enabled=False)
    report = report if report is not None else PredictReport()
    written: list[Path] = []
    for item in files:
        try:
            with open_source(item.path, model.in_channels, key=key) as source:
                written += predict_source(model, predictor, source, item, Path(out_dir), normalization, progress,
                                          nan=nan, report=report)
        except BadFileError as exc:
            if on_error == "stop":
                raise
            report.skip(exc)
        progress.file_done()
    return written


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
) -> list[Path]:
    """Predict all images of one open source into new TIFFs named after ``item.stem``."""
    n, _, h, w = source.shape
    head = model.head
    progress.start_file(display_path(item.path.name), n * predictor.count_tiles(h, w))
    writers: dict[str, TiffStripWriter] = {}
    ok = False
    try:
        for spec in head.outputs():
            extra = {"source": item.path.name, "emkit": {**model.describe(), "output": spec.suffix}}
            if spec.suffix == "mask":
                extra["emkit"]["threshold" if head.kind == "binary" else "labels"] = (
                    head.threshold if head.kind == "binary" else "argmax")
            writers[spec.suffix] = TiffStripWriter(
                out_dir / f"{item.stem}_{spec.suffix}.tif", (n, spec.channels, h, w), spec.dtype,
                source.meta.tiff_kwargs(extra),
            )
        for i in range(n):
            def write(r0: int, r1: int, values, i=i) -> None:  # noqa: ANN001
                for suffix, rows in head.finalize(values).items():
                    writers[suffix].write(i, r0, rows)

            predict_image(predictor, source, i, normalization, write, str(item.path), nan=nan, report=report,
                          on_tiles=progress.tiles_done)
        ok = True
    finally:
        for writer in writers.values():
            writer.close(ok)
    return [wr.path for wr in writers.values()]


def predict_image(predictor: TiledPredictor, source: ImageSource, i: int, normalization: IntensityRule,
                  write: Callable[[int, int, np.ndarray], None], where: str, *, nan: str = "error",
                  report: Optional[PredictReport] = None, on_tiles: Optional[Callable[[int], None]] = None) -> None:
    """Image ``i`` of ``source``: its values checked, its normalisation fitted as training did,
    then every strip of blended output values handed to ``write(r0, r1, values)``."""
    _, _, h, w = source.shape
    checked = inspect_image(source, i, nan, report if report is not None else PredictReport())
    scaling = normalization.fit(source.dtype, lambda limit: checked.clean(source.sample(i, limit)), where)
    predictor.predict(lambda r0, r1: checked.clean(source.read_rows(i, r0, r1)), h, w, scaling, write,
                      on_tiles=on_tiles)


def predict_arrays(model: LoadedModel, predictor: TiledPredictor, source: ImageSource, normalization: IntensityRule,
                   *, nan: str = "error", report: Optional[PredictReport] = None,
                   on_tiles: Optional[Callable[[int], None]] = None) -> dict[str, np.ndarray]:
    """Every image of ``source`` into arrays, one per output (``pred``, or ``prob`` + ``mask``) of
    shape ``(N, C, H, W)`` -- the values ``predict_source`` writes into its TIFFs."""
    n, _, h, w = source.shape
    head = model.head
    outs = {spec.suffix: np.zeros((n, spec.channels, h, w), spec.dtype) for spec in head.outputs()}
    for i in range(n):
        def write(r0: int, r1: int, values: np.ndarray, i: int = i) -> None:
            for suffix, rows in head.finalize(values).items():
                outs[suffix][i, :, r0:r1] = rows

        predict_image(predictor, source, i, normalization, write, str(source.path), nan=nan, report=report,
                      on_tiles=on_tiles)
    return outs
