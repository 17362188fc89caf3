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
"""

from __future__ import annotations

import dataclasses
from typing import Literal

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

    def outputs(self) -> list[OutputSpec]:
        if self.kind == "image":
            return [OutputSpec("pred", np.dtype(np.float32), self.channels)]
        return [OutputSpec("prob", np.dtype(np.float32), self.channels), OutputSpec("mask", np.dtype(np.uint8), 1)]

    def finalize(self, values: np.ndarray) -> dict[str, np.ndarray]:
        """Blended values ``(C, rows, W)`` → one array per output file (keyed by suffix)."""
        values = values.astype(np.float32, copy=False)
        if self.kind == "image":
            return {"pred": values}
        if self.kind == "binary":
            mask = (values > self.threshold).astype(np.uint8)
        else:
            mask = np.argmax(values, axis=0)[None].astype(np.uint8)
        return {"prob": values, "mask": mask}
