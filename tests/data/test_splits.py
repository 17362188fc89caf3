"""Split lists with per-item keys, the disjointness check, and ``train_limit``."""

from __future__ import annotations

import pytest

from emkit.data.splits import SplitConfig, SplitOverlapError, read_split_list, select_items, select_split
from emkit.errors import DataError

KEYS = [f"a.h5#{i}" for i in range(4)] + [f"b.h5#{i}" for i in range(4)]
ALIASES = [k.split("#")[0] for k in KEYS]


def write_lists(folder, **lists):
    folder.mkdir(exist_ok=True)
    for split, text in lists.items():
        (folder / f"{split}.txt").write_text(text)
    return str(folder)


def test_hash_inside_a_key_is_kept_and_comment_lines_are_skipped(tmp_path):
    (tmp_path / "l.txt").write_text("# held-out micrographs\n  a.h5#3  \n\n   # indented comment\nb.h5#0\n")
    assert read_split_list(tmp_path / "l.txt") == ["a.h5#3", "b.h5#0"]


def test_per_item_keys_select_single_items(tmp_path):
    lists = write_lists(tmp_path / "s", train="a.h5#0\na.h5#1\nb.h5\n", val="a.h5#2\n", test="a.h5#3\n")
    got = {s: select_split(KEYS, s, split_files=lists, aliases=ALIASES) for s in ("train", "val", "test")}
    assert got == {"train": [0, 1, 4, 5, 6, 7], "val": [2], "test": [3]}


@pytest.mark.parametrize("train,test", [("a.h5#1\n", "a.h5#1\n"), ("a.h5\n", "a.h5#2\n"), ("b.h5\n", "b.h5\n")])
def test_overlapping_lists_are_refused_naming_both_files_and_the_item(tmp_path, train, test):
    lists = write_lists(tmp_path / "s", train=train, test=test)
    for split in ("train", "test"):  # whichever split a run builds first, it fails
        with pytest.raises(SplitOverlapError, match=r"train\.txt and .*test\.txt both contain item '(a|b)\.h5#\d'"):
            select_split(KEYS, split, split_files=lists, aliases=ALIASES)


def test_train_limit_shrinks_only_train_nested_and_seeded():
    keys = [f"img{i:03d}.tif" for i in range(200)]
    cfg = dict(val_fraction=0.1, test_fraction=0.2, seed=3)
    full = {s: select_items(keys, s, SplitConfig(**cfg)) for s in ("train", "val", "test")}
    small = {s: select_items(keys, s, SplitConfig(**cfg, train_limit=8)) for s in ("train", "val", "test")}
    mid = select_items(keys, "train", SplitConfig(**cfg, train_limit=16))
    assert small["val"] == full["val"] and small["test"] == full["test"]
    assert len(small["train"]) == 8 and set(small["train"]) < set(mid) < set(full["train"])
    assert select_items(keys, "train", SplitConfig(**cfg, train_limit=8)) == small["train"]
    other_seed = select_items(keys, "train", SplitConfig(val_fraction=0.1, test_fraction=0.2, seed=4, train_limit=8))
    assert other_seed != small["train"]


def test_train_limit_beyond_the_split_is_refused():
    keys = [f"k{i}" for i in range(10)]
    with pytest.raises(DataError, match="train_limit=50 but the train split holds only"):
        select_items(keys, "train", SplitConfig(val_fraction=0.0, train_limit=50))
    with pytest.raises(DataError, match="positive"):
        select_items(keys, "train", SplitConfig(val_fraction=0.0, train_limit=0))
