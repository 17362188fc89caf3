"""The task on real synthetic-stem batches: targets, alignment, losses, metrics, panels."""

from __future__ import annotations

import pytest
import torch

from emkit.plugin_api import to_model
from emkit.testing.harness import make_context
from emkit_atomfinder.points import find_peaks, mask_columns
from emkit_atomfinder.task import AtomLocalization, AtomLocalizationConfig, focal_loss


def test_perfect_heatmap_scores_perfectly(stem_batch):
    task = AtomLocalization(AtomLocalizationConfig())
    batch = task.prepare_eval_batch(stem_batch, make_context())
    perfect = to_model(batch["heatmap"])  # the generator output that decodes to the target
    m = task.metrics(perfect, batch)
    assert set(m) == {"precision", "recall", "f1", "loc_error", "n_true", "n_pred", "heatmap_mse"}
    assert all(v.shape == (4,) for v in m.values())
    assert m["f1"].min() == 1.0 and m["loc_error"].max() < 1e-3 and m["heatmap_mse"].max() < 1e-10
    assert m["n_true"].min() > 5


@pytest.mark.parametrize("tolerance", [1.25, 3.5])
def test_empty_prediction_finds_nothing(stem_batch, tolerance):
    """Nothing found: recall 0, precision 1 (no false positives), and every missed column
    costs the matching tolerance the task was configured with."""
    task = AtomLocalization(AtomLocalizationConfig(tolerance=tolerance))
    batch = task.prepare_eval_batch(stem_batch, make_context())
    m = task.metrics(torch.full_like(batch["heatmap"], -1.0), batch)
    assert m["recall"].max() == 0 and m["precision"].min() == 1
    assert m["loc_error"].min() == m["loc_error"].max() == tolerance


def test_training_crops_keep_image_and_heatmap_aligned(stem_batch):
    """Feed the mask as the image: after the random warp, the heatmap peaks must sit on
    the centres of the warped discs."""
    task = AtomLocalization(AtomLocalizationConfig(crop=64))
    batch = {"image": stem_batch["mask"] * 255, "mask": stem_batch["mask"]}
    out = task.prepare_batch(batch, make_context(seed=5))
    assert out["input"].shape == (4, 1, 64, 64) and out["heatmap"].shape == (4, 1, 64, 64)
    peaks = find_peaks(out["heatmap"], threshold=0.5, radius=2)
    centres = mask_columns((out["image"] > 0.5).to(torch.uint8), min_area=4)
    for p, c in zip(peaks, centres):
        inner = c[(c >= 4).all(1) & (c <= 59).all(1)]
        assert len(inner) > 3
        assert torch.cdist(inner, p).min(1).values.median() < 0.5


def test_prepare_batch_is_deterministic_per_seed(stem_batch):
    task = AtomLocalization(AtomLocalizationConfig(crop=48))
    a = task.prepare_batch(stem_batch, make_context(seed=1))
    b = task.prepare_batch(stem_batch, make_context(seed=1))
    c = task.prepare_batch(stem_batch, make_context(seed=2))
    assert torch.equal(a["heatmap"], b["heatmap"]) and not torch.equal(a["heatmap"], c["heatmap"])


@pytest.mark.parametrize("loss", ["mse", "focal"])
def test_losses_prefer_the_target(stem_batch, loss):
    task = AtomLocalization(AtomLocalizationConfig(loss=loss))
    batch = task.prepare_eval_batch(stem_batch, make_context())
    heat = batch["heatmap"]
    good = to_model(heat) if loss == "mse" else torch.logit(heat.clamp(1e-4, 1 - 1e-4))
    bad = torch.zeros_like(heat)
    assert task.loss(good, batch) < task.loss(bad, batch)
    pred = bad.clone().requires_grad_(True)
    task.loss(pred, batch).backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    if loss == "focal":  # decoded with a sigmoid, the target logits score perfectly too
        assert task.metrics(good, batch)["f1"].min() == 1.0


def test_focal_loss_is_zero_at_a_confident_perfect_prediction():
    heat = torch.zeros(1, 1, 9, 9)
    heat[0, 0, 4, 4] = 1.0
    logits = torch.where(heat > 0, torch.tensor(30.0), torch.tensor(-30.0))
    assert focal_loss(logits, heat) < 1e-6


def test_sample_panels(stem_batch):
    task = AtomLocalization(AtomLocalizationConfig())
    batch = task.prepare_eval_batch(stem_batch, make_context())
    panels = task.sample_panels(to_model(batch["heatmap"]), batch)
    assert list(panels) == ["image", "predicted heatmap", "true heatmap", "columns true/found"]
    assert all(p.shape == (4, 1, 96, 96) and 0 <= p.min() and p.max() <= 1 for p in panels.values())


def test_config_is_validated():
    with pytest.raises(ValueError, match="nms_radius"):
        AtomLocalizationConfig(nms_radius=0)
    with pytest.raises(ValueError, match="sigma"):
        AtomLocalizationConfig(sigma=-1.0)
