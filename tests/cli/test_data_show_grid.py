"""``emkit data show`` draws a labelled grid: image | target | mask titles, item-key rows."""

from __future__ import annotations

import json

from PIL import Image

from run_support import run_cli


def test_show_grid_has_titles_and_item_keys(tmp_path, capsys):
    grid = tmp_path / "grid.png"
    code, out, err = run_cli(["data", "show", "synthetic-stem", "length=6", "size=64", "--out", str(grid),
                              "--n", "6", "--cell", "64"], capsys)
    assert code == 0, err
    im = Image.open(grid)
    columns = json.loads(im.text["emkit:columns"])
    rows = json.loads(im.text["emkit:rows"])
    assert columns[0] == "image" and "mask" in columns
    assert rows == [f"synthetic-stem/train/{i}" for i in range(6)]
    assert im.width >= 2 * len(columns) * 64  # six rows of three panels laid out in two blocks
