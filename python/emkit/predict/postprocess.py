"""What a generator's output means, and how it becomes the files ``emkit predict`` writes.

Three kinds (chosen by ``model_loading`` from how the run was trained):

``image``       restoration / pretext runs: model space ``y`` → ``from_model(y)`` clamped
                to [0, 1] (as evaluation does) → ``<stem>_pred.tif`` (float32).
``binary``      segmentation with one output channel: ``sigmoid`` → probability of the
                foreground → ``<stem>_prob.tif`` (float32) and ``<stem>_mask.tif``
                (uint8, 1 where probability > threshold).
``multiclass``  segmentation with C channels: ``softmax`` → C probabilities →
                ``<stem>_prob.tif`` (float32, C planes) and ``<stem>_mask.tif`` (uint8 argmax).

``activate`` is point-wise, so it is applied per tile before blending: tiles are
blended (and test-time augmentations averaged) in output space.

Two optional outputs explain a prediction:

``residual``    restoration only: ``<stem>_residual.tif`` = the input as the model saw it
                (normalised to [0, 1]) minus the prediction -- what the model removed
                (positive) or added (negative), in the prediction's units.
``spread``      with test-time augmentation: ``<stem>_spread.tif``, how much the 8
                rotated/flipped predictions disagree per pixel -- for images their
                standard deviation (one plane per channel, in the prediction's units),
                for segmentations the fraction of the 8 whose label differs from the
                final mask (0 = all agree; 0.5 = a split vote).
"""

from __future__ import annotations

import dataclasses
from typing import Literal, Optional

import numpy as np
import torch

from emkit.plugin_api import from_model

Kind = Literal["image", "binary", "multiclass"]


@dataclasses.dataclass(frozen=True)
class OutputSpec:
    """One output file: suffix of its name, pixel type, planes per image."""

    suffix: str
    dtype: np.dtype
    channels: int


@dataclasses.dataclass(frozen=True)
class OutputHead:
    """The meaning of a generator's ``channels`` output planes (see the module docstring)."""

    kind: Kind
    channels: int
    threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.kind == "binary" and self.channels != 1:
            raise ValueError(f"a binary head has one channel, got {self.channels}")
        if self.kind == "multiclass" and self.channels < 2:
            raise ValueError(f"a multi-class head needs >= 2 channels, got {self.channels}")

    @property
    def value_channels(self) -> int:
        """Planes of the blended values (same as the generator's output)."""
        return self.channels

    def activate(self, y: torch.Tensor) -> torch.Tensor:
        """Raw generator output (model space / logits) → output space, point-wise."""
        if self.kind == "image":
            return from_model(y.float()).clamp(0.0, 1.0)
        if self.kind == "binary":
            return torch.sigmoid(y.float())
        return torch.softmax(y.float(), dim=1)

    @property
    def spread_channels(self) -> int:
        """Planes of the test-time-augmentation spread: one per image channel, one for a segmentation."""
        return self.channels if self.kind == "image" else 1

    def spread(self, stack: torch.Tensor) -> torch.Tensor:
        """Spread of ``stack`` (``(K, B, C, H, W)``: K predictions in output space) → ``(B, S, H, W)``."""
        if self.kind == "image":
            return stack.std(dim=0, correction=0)
        mean = stack.mean(dim=0)
        if self.kind == "binary":
            return ((stack > self.threshold) != (mean > self.threshold)).float().mean(dim=0)
        return (stack.argmax(dim=2) != mean.argmax(dim=1)).float().mean(dim=0)[:, None]

    def outputs(self, *, residual: bool = False, spread: bool = False) -> list[OutputSpec]:
        """The output files: the prediction's, then the residual and the spread when asked for."""
        f32 = np.dtype(np.float32)
        specs = ([OutputSpec("pred", f32, self.channels)] if self.kind == "image" else
                 [OutputSpec("prob", f32, self.channels), OutputSpec("mask", np.dtype(np.uint8), 1)])
        if residual:
            if self.kind != "image":
                raise ValueError("a residual (input - prediction) exists for image outputs only")
            specs.append(OutputSpec("residual", f32, self.channels))
        if spread:
            specs.append(OutputSpec("spread", f32, self.spread_channels))
        return specs

    def finalize(self, values: np.ndarray, unit_input: Optional[np.ndarray] = None) -> dict[str, np.ndarray]:
        """Blended values ``(C [+ S], rows, W)`` → one array per output file (keyed by suffix).

        Planes beyond ``channels`` are the spread (``TiledPredictor`` with ``spread``);
        ``unit_input`` (the same rows of the normalised input) adds the residual.
        """
        values = values.astype(np.float32, copy=False)
        head, extra = values[: self.channels], values[self.channels :]
        if self.kind == "image":
            rows = {"pred": head}
        elif self.kind == "binary":
            rows = {"prob": head, "mask": (head > self.threshold).astype(np.uint8)}
        else:
            rows = {"prob": head, "mask": np.argmax(head, axis=0)[None].astype(np.uint8)}
        if unit_input is not None:
            rows["residual"] = residual(unit_input, head)
        if len(extra):
            rows["spread"] = extra
        return rows


def residual(unit_input: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """``input − prediction`` (float32): what a restoration removed (> 0) or added (< 0).

    ``unit_input`` is the input as the model saw it (normalised to [0, 1]), with as many
    channels as ``prediction``.
    """
    if unit_input.shape != prediction.shape:
        raise ValueError(f"input {unit_input.shape} and prediction {prediction.shape} differ in shape; a residual "
                         "needs a model with as many output as input channels")
    return np.subtract(unit_input, prediction, dtype=np.float32)
