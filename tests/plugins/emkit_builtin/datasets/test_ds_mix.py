"""``mix``: weighted pools of dataset plugins (sizes, dtypes, weights, pinned splits, errors)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import tifffile
import torch

from emkit.errors import ConfigError, EmkitError
from emkit_builtin.datasets.mix import largest_remainder, parse_source, plan

SMALL = [
    {"name": "synthetic-cem", "length": 6, "val_length": 2, "size": 48},
    {"name": "synthetic-stem", "length": 6, "val_length": 2, "size": 96},
    {"name": "synthetic-hrtem", "length": 4, "val_length": 2, "size": 64},
]


def _source(sample) -> str:
    return sample["source"].split(":", 1)[0]


def test_defaults_pool_the_three_synthetic_sets(build):
    from emkit_builtin.datasets.mix import MixConfig

    assert MixConfig().sources == ["synthetic-cem", "synthetic-stem", "synthetic-hrtem"]
    ds = build("mix", sources=SMALL, size=64)
    assert len(ds) == 16 and len(build("mix", "val", sources=SMALL, size=64)) == 6
    assert {_source(ds[i]) for i in range(len(ds))} == {"synthetic-cem", "synthetic-stem", "synthetic-hrtem"}
    # cem/stem are uint8, hrtem float32: all are served as float32 in [0, 1] at one size
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=16)))
    assert batch["image"].shape == (16, 1, 64, 64) and batch["image"].dtype == torch.float32
    assert 0.0 <= float(batch["image"].min()) and float(batch["image"].max()) <= 1.0
    assert set(batch) == {"image", "source"}  # labels of stem/hrtem are dropped


def test_one_dtype_is_kept(build):
    ds = build("mix", sources=SMALL[:2], size=32)
    assert ds[0]["image"].dtype == torch.uint8 and ds[0]["image"].shape == (1, 32, 32)


def test_deterministic_and_train_crops_vary(build):
    a, b = build("mix", sources=SMALL[1:2], size=40), build("mix", sources=SMALL[1:2], size=40)
    assert all(torch.equal(a[i]["image"], b[i]["image"]) for i in range(len(a)))
    assert not torch.equal(a[0]["image"], build("mix", sources=SMALL[1:2], size=40, seed=1)[0]["image"])
    # 12 draws of 6 images: the same image is cut at different windows in the train split
    many = build("mix", sources=SMALL[1:2], size=40, length=12)
    by_item: dict[str, list[torch.Tensor]] = {}
    for i in range(12):
        s = many[i]
        by_item.setdefault(s["source"], []).append(s["image"])
    assert all(len(v) == 2 for v in by_item.values())
    assert any(not torch.equal(*v) for v in by_item.values())
    # val/test take the centre: the same image gives the same window
    val = build("mix", "val", sources=SMALL[1:2], size=40, val_length=4)
    firsts = {}
    for i in range(4):
        s = val[i]
        assert torch.equal(firsts.setdefault(s["source"], s["image"]), s["image"])


def test_weights_give_exact_proportions_and_cycle_items(build):
    ds = build("mix", sources=SMALL[:2], weights=[1, 3], length=40, size=32)
    counts = Counter(_source(ds[i]) for i in range(40))
    assert counts == {"synthetic-cem": 10, "synthetic-stem": 30}
    items = Counter(ds[i]["source"] for i in range(40) if _source(ds[i]) == "synthetic-cem")
    assert sorted(items.values()) == [1, 1, 2, 2, 2, 2]  # every item before any third use
    zero = build("mix", sources=SMALL[:2], weights=[0, 1], length=8, size=32)
    assert {_source(zero[i]) for i in range(8)} == {"synthetic-stem"}


def test_plan_helpers():
    assert largest_remainder(np.array([1.0, 1.0, 1.0]), 10).tolist() in ([4, 3, 3], [3, 4, 3], [3, 3, 4])
    assert largest_remainder(np.array([1.0, 3.0]), 7).sum() == 7
    src, item = plan([3, 0], [1.0, 1.0], 7, np.random.default_rng(0))
    assert (src == 0).all() and sorted(Counter(item.tolist()).values()) == [2, 2, 3]
    assert len(plan([0, 0], [1.0, 1.0], 5, np.random.default_rng(0))[0]) == 0


def test_folder_sources_of_different_sizes(build, tmp_path, rng):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for i in range(3):
        tifffile.imwrite(tmp_path / "a" / f"{i}.tif", rng.integers(0, 255, (300, 200)).astype(np.uint8))
        tifffile.imwrite(tmp_path / "b" / f"{i}.tif", rng.integers(0, 255, (40, 50)).astype(np.uint8))
    ds = build("mix", sources=[f"folder:{tmp_path / 'a'}", {"name": "folder", "root": str(tmp_path / "b"),
                                                             "val_fraction": 0.0}], size=64)
    assert len(ds) >= 4
    shapes = {tuple(ds[i]["image"].shape) for i in range(len(ds))}
    assert shapes == {(1, 64, 64)}
    assert parse_source(f"folder:{tmp_path}", 0) == ("folder", {"root": str(tmp_path)}, None)


def test_pinned_source_reads_only_its_train_split(build):
    pinned = {**SMALL[0], "split": "train"}
    train = build("mix", sources=[pinned, SMALL[1]], size=32)
    val = build("mix", "val", sources=[pinned, SMALL[1]], size=32, val_length=40)
    assert {_source(train[i]) for i in range(len(train))} == {"synthetic-cem", "synthetic-stem"}
    train_items = {train[i]["source"] for i in range(len(train)) if _source(train[i]) == "synthetic-cem"}
    val_items = {val[i]["source"] for i in range(len(val)) if _source(val[i]) == "synthetic-cem"}
    # every split of the mix reads the pinned source's train items, never its val/test items
    assert val_items == train_items and all("/train/" in s for s in val_items)
    assert {val[i]["source"] for i in range(len(val)) if _source(val[i]) == "synthetic-stem"} <= {
        f"synthetic-stem:synthetic-stem/val/{j}" for j in range(2)}
    assert len(build("mix", "test", sources=[pinned], size=32)) == 6


@pytest.mark.parametrize("values, match", [
    ({"sources": ["synthetic-cem", "synthetic-stem"], "weights": [1]}, "one weight per source"),
    ({"sources": ["synthetic-cem"], "weights": [-1]}, r"data.weights\[0\]"),
    ({"sources": ["synthetic-cem"], "weights": [0]}, "positive sum"),
    ({"sources": []}, "at least one"),
    ({"sources": ["synthetic-cme"]}, "synthetic-cem"),
    ({"sources": [{"name": "synthetic-cem", "lenght": 3}]}, r"data.sources\[0\].*lenght"),
    ({"sources": [{"root": "/x"}]}, "name: <dataset>"),
    ({"sources": ["mix"]}, "cannot contain another mix"),
    ({"sources": [{"name": "synthetic-cem", "split": "val"}]}, "only 'train'"),
])
def test_bad_config_is_one_clear_error(build, values, match):
    with pytest.raises(EmkitError, match=match):
        build("mix", **values)


def test_ranges(build):
    with pytest.raises(ConfigError, match="data.size"):
        build("mix", sources=["synthetic-cem"], size=8)
    with pytest.raises(ConfigError, match="data.length"):
        build("mix", sources=["synthetic-cem"], length=-1)


def test_pix2pix_trains_on_a_mix(tmp_path):
    import yaml

    from emkit.engine.launch.start import launch

    run = launch(["pretext=pix2pix", "generator=unet", "generator.blocks=2", "generator.width=4", "data=mix",
                  "data.sources=[{name: synthetic-cem, size: 48, length: 8, val_length: 2},"
                  " {name: synthetic-stem, size: 96, length: 8, val_length: 2}]",
                  "data.weights=[1,2]", "data.size=48", "pretext.crop=32", "train.epochs=1", "train.batch_size=4",
                  "train.device=cpu", f"runs_dir={tmp_path}", "name=mixrun"], [])
    assert (run / "generator.safetensors").exists() and (run / "samples" / "epoch_001.png").exists()
    data = yaml.safe_load((run / "config.yaml").read_text())["data"]
    assert data["name"] == "mix" and data["weights"] == [1.0, 2.0] and len(data["sources"]) == 2
