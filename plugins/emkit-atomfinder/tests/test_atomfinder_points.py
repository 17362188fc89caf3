"""Components, column positions, Gaussian heatmaps and peak finding."""

from __future__ import annotations

import math

import pytest
import torch

from emkit_atomfinder.points import find_peaks, label_components, local_max, mask_columns, render_heatmap


def discs(points, shape, radius):
    """A (1, 1, H, W) uint8 mask with a disc of ``radius`` around each (y, x)."""
    yy, xx = torch.meshgrid(torch.arange(shape[0]).float(), torch.arange(shape[1]).float(), indexing="ij")
    mask = torch.zeros(shape, dtype=torch.bool)
    for y, x in points:
        mask |= (yy - y) ** 2 + (xx - x) ** 2 <= radius**2
    return mask.to(torch.uint8)[None, None]


def test_local_max_matches_max_pool():
    x = torch.randn(2, 1, 17, 23)
    for r in (1, 2, 3):
        expected = torch.nn.functional.max_pool2d(x, 2 * r + 1, stride=1, padding=r)
        assert torch.equal(local_max(x, r), expected)


def test_components_are_labelled_per_sample_and_8_connected():
    mask = torch.zeros(2, 1, 8, 8, dtype=torch.uint8)
    mask[0, 0, 1, 1] = mask[0, 0, 2, 2] = 1  # diagonal neighbours: one component
    mask[0, 0, 6, 1:7] = 1  # a bar
    mask[1, 0, 3:5, 3:5] = 1
    labels = label_components(mask)
    assert labels[0, 0, 1, 1] == labels[0, 0, 2, 2] == 2 * 8 + 2 + 1
    assert len(labels[0, 0, 6, 1:7].unique()) == 1 and labels[0, 0, 6, 1] == 6 * 8 + 6 + 1
    assert labels[1, 0, 3, 3] == 4 * 8 + 4 + 1
    assert (labels[mask == 0] == 0).all()


def test_spiral_component_converges():
    """A long winding component (worst case for propagation) gets one label."""
    mask = torch.zeros(1, 1, 21, 21, dtype=torch.uint8)
    for i in range(0, 21, 4):
        mask[0, 0, i, :] = 1
        mask[0, 0, i:i + 4, 20 if (i // 4) % 2 == 0 else 0] = 1
    labels = label_components(mask)
    assert len(labels[mask > 0].unique()) == 1


def test_mask_columns_are_disc_centres_and_merged_discs_are_split():
    true = torch.tensor([[10.3, 12.6], [30.0, 40.5], [50.7, 20.2], [50.4, 27.3]])
    mask = discs(true.tolist(), (64, 64), 2.7)
    mask[0, 0, 50, 20:28] = 1  # a thin bridge joins the last two discs (as in dense lattices)
    found = mask_columns(mask)[0]
    assert len(found) == 4
    d = torch.cdist(found, true).min(1).values
    assert d[:2].max() < 0.3 and d.max() < 0.4, d
    assert len(mask_columns(mask, merged_area=1e9)[0]) == 3  # without splitting: one blob


def test_min_area_drops_specks():
    mask = discs([[10, 10]], (32, 32), 2.5)
    mask[0, 0, 25, 25] = 1
    assert len(mask_columns(mask)[0]) == 2
    assert len(mask_columns(mask, min_area=3)[0]) == 1


def test_empty_masks_give_empty_point_sets():
    out = mask_columns(torch.zeros(3, 1, 16, 16, dtype=torch.uint8))
    assert len(out) == 3 and all(p.shape == (0, 2) for p in out)


def test_heatmap_values_and_subpixel_peaks_are_exact():
    g = torch.Generator().manual_seed(0)
    pts = torch.rand(40, 2, generator=g) * 100 + 10
    pts = pts[torch.cdist(pts, pts).add(torch.eye(40) * 1e9).min(1).values > 6]  # well separated
    heat = render_heatmap([pts], (120, 120), 1.5)
    assert heat.shape == (1, 1, 120, 120) and heat.max() <= 1
    y, x = int(pts[0, 0].round()), int(pts[0, 1].round())
    expected = math.exp(-((y - pts[0, 0]) ** 2 + (x - pts[0, 1]) ** 2) / (2 * 1.5**2))
    assert heat[0, 0, y, x] == pytest.approx(float(expected), abs=1e-6)
    found = find_peaks(heat, threshold=0.5, radius=2)[0]
    assert len(found) == len(pts)
    assert torch.cdist(found, pts).min(1).values.max() < 1e-3  # log-parabola fit is exact for Gaussians
    coarse = find_peaks(heat, threshold=0.5, radius=2, subpixel=False)[0]
    assert torch.cdist(coarse, pts).min(1).values.max() <= math.sqrt(0.5) + 1e-6


def test_peaks_threshold_plateaus_and_batches():
    heat = torch.zeros(2, 1, 10, 10)
    heat[0, 0, 4, 4:6] = 0.9  # a two-pixel plateau: one peak
    heat[0, 0, 8, 8] = 0.4  # below threshold
    heat[1, 0, 1, 1] = 0.7
    peaks = find_peaks(heat, threshold=0.5, radius=2, subpixel=False)
    assert [p.tolist() for p in peaks] == [[[4.0, 4.0]], [[1.0, 1.0]]]


def test_render_handles_empty_and_border_points():
    heat = render_heatmap([torch.zeros(0, 2), torch.tensor([[0.2, 15.9]])], (16, 16), 1.0)
    assert heat[0].max() == 0 and heat[1, 0, 0, 15] == pytest.approx(math.exp(-(0.2**2 + 0.9**2) / 2), abs=1e-6)


def test_bad_shapes_are_clear_errors():
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        find_peaks(torch.zeros(4, 4))
    with pytest.raises(ValueError, match="sigma"):
        render_heatmap([torch.zeros(1, 2)], (4, 4), 0.0)
