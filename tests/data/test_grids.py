"""Labelled grids: titles and row names are drawn (ink in the label bands) and recorded."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from emkit.data.grids import MIN_CELL, labelled_grid, panel_grid, row_names, save_grid


def _ink(region: np.ndarray) -> int:
    """Dark pixels in an RGB region of the (white) sheet."""
    return int((region.min(axis=-1) < 128).sum())


def test_titles_and_row_names_are_drawn_and_recorded(tmp_path):
    panels = {"degraded": torch.rand(3, 1, 128, 128), "restored": torch.rand(3, 1, 128, 128),
              "clean": torch.rand(3, 1, 128, 128), "|error| x4": torch.zeros(3, 1, 128, 128)}
    path = save_grid(tmp_path / "g.png", panels, ["synthetic-cem/val/0", "synthetic-cem/val/1", "synthetic-cem/val/2"])
    im = Image.open(path)
    assert json.loads(im.text["emkit:columns"]) == ["degraded", "restored", "clean", "|error| x4"]
    assert json.loads(im.text["emkit:rows"]) == ["synthetic-cem/val/0", "synthetic-cem/val/1", "synthetic-cem/val/2"]
    a = np.asarray(im.convert("RGB"))
    grid = panel_grid(panels, None)
    line = (a.shape[0] - 4 - 3 * (128 + 4)) // 4  # header + one caption per row share the rest
    assert line >= 10
    assert _ink(a[:line, :, :]) > 50  # column titles
    assert _ink(a[line : 2 * line, :, :]) > 50  # the first row's name
    # the |error| panel is all zeros: black cells where the images are, white elsewhere
    assert grid.rows == ["#0", "#1", "#2"]


def test_unlabelled_grid_has_blank_bands():
    """The ink check above can fail: without text the bands are white."""
    cells = [[np.full((128, 128), 200, np.uint8)] * 2]
    grid = labelled_grid(cells, ["", ""], [""])
    a = np.asarray(grid.image)
    assert _ink(a[:20]) == 0


def test_small_cells_are_enlarged_so_titles_fit():
    grid = panel_grid({"image": torch.rand(2, 1, 32, 32), "probability": torch.rand(2, 1, 32, 32)})
    assert grid.image.width >= 2 * MIN_CELL
    assert grid.columns == ["image", "probability"]


def test_list_panels_get_numbered_titles_and_bad_labels_are_refused():
    grid = panel_grid([torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8)])
    assert grid.columns == ["panel 1", "panel 2"]
    with pytest.raises(ValueError, match="do not match"):
        labelled_grid([[np.zeros((4, 4), np.uint8)]], ["a", "b"], ["r"])


def test_row_names_use_sources_when_the_batch_has_them():
    assert row_names(["a.tif", "b.tif", "c.tif"], 2) == ["a.tif", "b.tif"]
    assert row_names(None, 2) == ["#0", "#1"]
