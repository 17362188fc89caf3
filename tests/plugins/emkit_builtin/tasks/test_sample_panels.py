"""The built-in tasks title their sample-grid panels; segmentation shows the thresholded mask."""

from __future__ import annotations

import torch

from emkit import registry


def _task(name: str, **values):
    cls = registry.load("task", name)
    return cls(cls.Config(**values))


def test_binary_segmentation_shows_probability_and_thresholded_mask():
    task = _task("segmentation")
    logits = torch.linspace(-3, 3, 2 * 16 * 16).reshape(2, 1, 16, 16)
    batch = {"image": torch.rand(2, 1, 16, 16), "mask": (torch.rand(2, 1, 16, 16) > 0.5).to(torch.uint8)}
    panels = task.sample_panels(logits, batch)
    assert list(panels) == ["image", "probability", "mask (p > 0.5)", "true mask"]
    assert torch.equal(panels["mask (p > 0.5)"], (torch.sigmoid(logits) > 0.5).float())
    assert torch.equal(panels["true mask"], batch["mask"].float())


def test_restoration_shows_the_error():
    task = _task("denoise")
    target = torch.rand(2, 1, 16, 16)
    prediction = target * 2 - 1  # model space: exactly the target
    panels = task.sample_panels(prediction, {"image": torch.rand(2, 1, 16, 16), "target": target})
    assert list(panels) == ["input", "restored", "target", "|error| x4"]
    assert float(panels["|error| x4"].max()) < 1e-5
