"""Per-item split lists through the public CLI: ``data show`` sizes, overlap refused by runs."""

from __future__ import annotations

import h5py
import numpy as np
from run_support import run_cli


def write_au(path, n=4, size=32):
    rng = np.random.default_rng(0)
    maps = np.zeros((n, 2, size, size), np.float32)
    maps[:, 1, : size // 2] = 1
    with h5py.File(path, "w") as fh:
        fh["images"] = rng.normal(5, 2, (n, 1, size, size)).astype(np.float32)
        fh["maps"] = maps


def lists(folder, **text):
    folder.mkdir()
    for split, body in text.items():
        (folder / f"{split}.txt").write_text(body)
    return folder


def test_data_show_prints_per_item_split_sizes(tmp_path, capsys):
    write_au(tmp_path / "a.h5")
    write_au(tmp_path / "b.h5")
    sp = lists(tmp_path / "sp", train="# train on file b and one item of a\nb.h5\na.h5#0\n",
               val="a.h5#1\n", test="a.h5#2\na.h5#3\n")
    code, out, err = run_cli(["data", "show", "au-hdf5", f"root={tmp_path}", f"split_files={sp}",
                              "--out", str(tmp_path / "g.png"), "--n", "2"], capsys)
    assert code == 0, out + err
    assert "splits: train 5 · val 1 · test 2" in out


def test_a_run_refuses_overlapping_split_lists(tmp_path, capsys):
    write_au(tmp_path / "a.h5")
    sp = lists(tmp_path / "sp", train="a.h5\n", val="a.h5#1\n", test="a.h5#2\n")
    code, out, err = run_cli(["run", "task=segmentation", "data=au-hdf5", f"data.root={tmp_path}",
                              f"data.split_files={sp}", "task.crop=32", "train.epochs=1", "train.batch_size=2",
                              "generator.blocks=2", "generator.width=4", "train.device=cpu",
                              f"runs_dir={tmp_path / 'runs'}"], capsys)
    assert code == 2
    assert "both contain item 'a.h5#1'" in err and "must be disjoint" in err
    assert err.count("\n") <= 2
