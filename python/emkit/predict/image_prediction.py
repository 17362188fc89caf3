"""One in-memory image → every result ``emkit predict`` writes for it, as arrays.

``predict_image(model, predictor, image)`` is the program's way to what the command line
writes to files: the prediction (``outputs``: ``pred``, or ``prob`` + ``mask``), the
residual of a restoration (normalised input − prediction), the spread of the 8 test-time
predictions (when the predictor was built with ``spread``), the comparison with the
training inputs (``input_check``: None when the run has no statistics) and, when asked,
the tiling deviation measured on the image's first tile pair. It runs the same code as
``runner`` (an ``ArraySource`` instead of a file, arrays instead of TIFFs).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from emkit.data.input_stats import InputCheck
from emkit.data.intensity import IntensityRule
from emkit.predict.input_check import InputChecker
from emkit.predict.inputs.checks import PredictReport
from emkit.predict.inputs.sources import ArraySource
from emkit.predict.metadata import ImageMeta
from emkit.predict.model_loading import LoadedModel
from emkit.predict.runner import ArrayOutput, Extras, predict_one
from emkit.predict.tiled_predictor import TiledPredictor
from emkit.predict.tiling_check import TilingDeviation


@dataclasses.dataclass
class ImagePrediction:
    """Everything predicted for one image; arrays are ``(planes, H, W)``."""

    outputs: dict[str, np.ndarray]
    residual: Optional[np.ndarray]
    spread: Optional[np.ndarray]
    input_check: Optional[InputCheck]
    tiling: Optional[TilingDeviation]
    #: Warnings and notes, as ``emkit predict`` prints them.
    notes: list[str]

    @property
    def prediction(self) -> np.ndarray:
        """The restored image or the probabilities."""
        return self.outputs["pred"] if "pred" in self.outputs else self.outputs["prob"]


def predict_image(model: LoadedModel, predictor: TiledPredictor, image: np.ndarray,
                  normalization: Optional[IntensityRule] = None, *, checker: Optional[InputChecker] = None,
                  residual: bool = True, tiling: bool = False, nan: str = "error", where: str = "image",
                  on_tiles: Optional[Callable[[int], None]] = None) -> ImagePrediction:
    """Predict ``image`` (``(H, W)`` or ``(C, H, W)`` raw pixels) -- see the module docstring.

    ``normalization`` defaults to the run's; ``checker`` to the run's statistics
    (``InputChecker.for_run``); ``residual`` applies to image outputs only; ``where``
    names the image in the notes; ``on_tiles(count)`` is called as tiles finish.
    """
    from emkit.data.intensity import resolve_for_prediction

    arr = np.asarray(image)
    arr = arr[None] if arr.ndim == 2 else arr
    source = ArraySource(Path("<array>"), arr, model.in_channels, ImageMeta())
    if source.shape[0] != 1:
        raise ValueError(f"predict_image takes one image, got a stack of shape {arr.shape}")
    _, _, h, w = source.shape
    rule = normalization or resolve_for_prediction("run", model.run_data)
    checker = checker if checker is not None else InputChecker.for_run(model.weights.parent)
    residual = residual and model.head.kind == "image"
    writers: dict = {spec.suffix: ArrayOutput((1, spec.channels, h, w), spec.dtype)
               for spec in model.head.outputs(residual=residual, spread=predictor.settings.spread)}
    report = PredictReport()
    if checker.stats is None:
        report.inform(checker.unavailable)
    check, deviation = predict_one(model, predictor, source, 0, rule, writers, on_tiles or (lambda count: None), report,
                                   Extras(residual=residual, checker=checker, tiling=tiling), where, nan, None)
    arrays = {suffix: out.array[0] for suffix, out in writers.items()}
    residual_array, spread = arrays.pop("residual", None), arrays.pop("spread", None)
    return ImagePrediction(arrays, residual_array, spread, check, deviation, report.notes)
