"""Segmentation sample grids show the thresholded mask beside the probability."""

from __future__ import annotations

import torch

from emkit_builtin.tasks.segmentation import Segmentation, SegmentationConfig


def test_panels_show_probability_thresholded_mask_and_truth():
    task = Segmentation(SegmentationConfig(threshold=0.5))
    logits = torch.tensor([[[[-2.0, -0.1], [0.1, 3.0]]]])
    batch = {"image": torch.full((1, 1, 2, 2), 0.5), "mask": torch.tensor([[[[0, 0], [1, 1]]]])}
    panels = task.sample_panels(logits, batch)
    prob, thresholded, truth = (panels[k] for k in ("probability", "mask (p > 0.5)", "true mask"))
    assert torch.allclose(prob, torch.sigmoid(logits))
    assert thresholded.flatten().tolist() == [0.0, 0.0, 1.0, 1.0] and truth.flatten().tolist() == [0.0, 0.0, 1.0, 1.0]
