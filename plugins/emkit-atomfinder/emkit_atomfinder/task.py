"""The ``atom-localization`` task: find atom columns as peaks of a predicted heatmap.

The generator learns TEMImageNet-style Gaussian-mask targets: a unit-height Gaussian of
width ``sigma`` on every atom column. Column positions are the heatmap's local maxima
(max-pool non-maximum suppression above ``threshold``, sub-pixel refined), and the task
reports how many true columns were found (recall), how many detections were right
(precision), their F1 and the mean distance of the matched pairs (``loc_error``, pixels).

Data: any dataset whose samples carry an atom mask (``mask``, class > 0 = column) --
``synthetic-stem`` and ``temimagenet`` serve theirs when asked for the "segmentation"
target. The reference positions are the centroids of the mask's connected components and
the heatmap is rendered from them on the training device, so no dataset change is needed.

Training crops are drawn by emkit's fused warp op: the image and the full-size heatmap
are warped with one shared random geometry (rotation, scale, flip) in one call, the image
optionally with extra noise; bilinear warping of a Gaussian keeps it a Gaussian, and
columns cut by the crop edge keep their true centres. Validation and test score whole
images.

Two losses: ``mse`` regresses the heatmap in the generator's ``2x - 1`` output space
(the space a pix2pix-pretrained generator restores images in), with the pixels near
columns weighted ``1 + peak_weight * heatmap`` so the sparse peaks are not drowned by the
background; ``focal`` is CenterNet's penalty-reduced focal loss on logits (the heatmap is
``sigmoid(output)``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import torch
import torch.nn.functional as F

from emkit.config.ranges import ranged
from emkit.ops.augment import AugmentConfig, augment_pair
from emkit.interfaces import Task
from emkit.plugin_api import StepContext, from_model, to_model, to_unit
from emkit_atomfinder.matching import detection_scores
from emkit_atomfinder.points import PointSets, find_peaks, mask_columns, render_heatmap


@dataclasses.dataclass
class AtomLocalizationConfig:
    """Options of ``task=atom-localization`` (``task.<field>=...``)."""

    #: Side of the square training crops (validation/test use whole images).
    crop: int = ranged(128, 8, 8192)
    lr: float = ranged(1e-3, 0, 10, exclusive_min=True)
    #: Width (std, pixels) of the Gaussian drawn on every column of the target heatmap.
    sigma: float = ranged(1.5, 0, 100, exclusive_min=True)
    loss: Literal["mse", "focal"] = "mse"
    #: mse: extra weight of pixels near columns (weight = 1 + peak_weight * heatmap).
    peak_weight: float = ranged(5.0, 0, None)
    #: Peak finding: minimum heatmap value and the NMS radius (window 2r + 1). The radius
    #: must stay below the closest column spacing (4.5 px in synthetic-stem).
    threshold: float = ranged(0.5, 0, 1)
    nms_radius: int = ranged(2, 0, 100)
    subpixel: bool = True
    #: A detection within `tolerance` pixels of a true column counts as found.
    tolerance: float = ranged(2.0, 0, 1000, exclusive_min=True)
    #: Columns within `border` pixels of the image edge are not scored.
    border: float = ranged(2.0, 0, 10000)
    #: Mask components smaller than this (pixels) are not columns.
    min_area: int = ranged(1, 1, None)
    augment: AugmentConfig = dataclasses.field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        if self.crop < 8:
            raise ValueError(f"crop must be at least 8 pixels, got {self.crop}")
        if self.sigma <= 0:
            raise ValueError(f"sigma must be > 0, got {self.sigma}")
        if self.nms_radius < 1:
            raise ValueError(f"nms_radius must be >= 1, got {self.nms_radius}")
        if self.tolerance <= 0:
            raise ValueError(f"tolerance must be > 0, got {self.tolerance}")


class AtomLocalization(Task):
    """Atom-column localisation by heatmap regression and peak finding (see module doc)."""

    Config = AtomLocalizationConfig
    target_key = "mask"
    dataset_target = "segmentation"
    default_data = "synthetic-stem"
    train_defaults: dict[str, Any] = {"schedule": "cosine"}

    @property
    def out_channels(self) -> int:
        return 1

    # ---- targets --------------------------------------------------------------------
    def columns(self, mask: torch.Tensor) -> PointSets:
        """Reference column positions: centres of the mask's discs, per sample (see ``mask_columns``)."""
        return mask_columns(mask, self.config.min_area)

    def target_heatmap(self, mask: torch.Tensor) -> torch.Tensor:
        """``(B, 1, H, W)`` Gaussian heatmap of the columns of ``mask``."""
        return render_heatmap(self.columns(mask), tuple(mask.shape[-2:]), self.config.sigma, device=mask.device)

    def heatmap(self, prediction: torch.Tensor) -> torch.Tensor:
        """The generator's raw output as a heatmap (~[0, 1]; not clamped)."""
        return torch.sigmoid(prediction) if self.config.loss == "focal" else from_model(prediction)

    def detect(self, prediction: torch.Tensor) -> PointSets:
        """Column positions ``(y, x)`` found in the generator's raw output, per sample."""
        return find_peaks(self.heatmap(prediction).float(), self.config.threshold, self.config.nms_radius,
                          self.config.subpixel)

    # ---- engine contract --------------------------------------------------------------
    def prepare_batch(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        with ctx.data_timer():
            heat = self.target_heatmap(batch["mask"])
        # One geometry for image and heatmap (bilinear for both), noise on the image only.
        image, heat = augment_pair(batch["image"], heat, crop=self.config.crop,
                                   ranges=self.config.augment.ranges(),
                                   exact=self.config.augment.exact, ctx=ctx, other_is_mask=False)
        return {"input": ctx.prepare(to_model(image)), "image": image, "heatmap": heat}

    def prepare_eval_batch(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        image = to_unit(batch["image"])
        mask = batch["mask"]
        return {"input": to_model(image), "image": image, "mask": mask, "heatmap": self.target_heatmap(mask)}

    def loss(self, prediction: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        heat = batch["heatmap"]
        if self.config.loss == "focal":
            return focal_loss(prediction, heat)
        weight = 1.0 + self.config.peak_weight * heat
        return (weight * (prediction - to_model(heat)) ** 2).mean()

    def metrics(self, prediction: torch.Tensor, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        shape = tuple(prediction.shape[-2:])
        scores = detection_scores(self.detect(prediction), self.columns(batch["mask"]),
                                  tolerance=self.config.tolerance, shape=shape, border=self.config.border)
        heat = self.heatmap(prediction).float()
        scores["heatmap_mse"] = ((heat - batch["heatmap"]) ** 2).mean((1, 2, 3))
        return scores

    def sample_panels(self, prediction: torch.Tensor, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Image | predicted heatmap | target heatmap | columns: true ones grey, detected
        ones white (a grey dot alone is a miss, a white dot alone a false detection)."""
        image = batch["image"][:, :1].clamp(0, 1)
        shape = tuple(image.shape[-2:])
        true = render_heatmap(self.columns(batch["mask"]), shape, 1.2, device=image.device)
        found = render_heatmap(self.detect(prediction), shape, 0.6, device=image.device)
        return {"image": image, "predicted heatmap": self.heatmap(prediction).clamp(0, 1),
                "true heatmap": batch["heatmap"].clamp(0, 1), "columns true/found": torch.maximum(0.45 * true, found)}


def focal_loss(logits: torch.Tensor, heat: torch.Tensor, alpha: float = 2.0, beta: float = 4.0) -> torch.Tensor:
    """CenterNet's penalty-reduced pixel focal loss, normalised by the number of peaks.

    Positives are the target's peak pixels (its 3x3 local maxima above 0.5: one pixel per
    column, whose value is below 1 when the column sits between pixel centres); the other
    pixels are negatives whose penalty is reduced by ``(1 - heat)^beta`` near a column, so
    near-misses cost little.
    """
    log_p = F.logsigmoid(logits)
    log_not_p = F.logsigmoid(-logits)
    p = torch.sigmoid(logits)
    pos = (heat >= F.max_pool2d(heat, 3, stride=1, padding=1)) & (heat > 0.5)
    pos_loss = -((1 - p) ** alpha) * log_p * pos
    neg_loss = -((1 - heat) ** beta) * (p ** alpha) * log_not_p * ~pos
    return (pos_loss.sum() + neg_loss.sum()) / pos.sum().clamp_min(1)
