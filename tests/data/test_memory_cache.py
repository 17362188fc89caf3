"""``data.cache``: decoded once, copies handed out, ``auto`` obeys its size limit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from emkit.data.memory_cache import SampleCache


def folder_dataset(tmp_path, **values):
    from emkit.data.build import build_dataset

    rng = np.random.default_rng(0)
    (tmp_path / "d").mkdir(exist_ok=True)
    for i in range(4):
        Image.fromarray(rng.integers(1, 255, (16, 16), dtype=np.uint8)).save(tmp_path / "d" / f"{i}.png")
    return build_dataset("folder", {"root": str(tmp_path / "d"), "val_fraction": 0.0, **values})


@pytest.mark.parametrize("mode,reads", [("memory", 4), ("none", 12), ("auto", 4)])
def test_files_are_decoded_once_per_run_when_cached(tmp_path, monkeypatch, mode, reads):
    ds = folder_dataset(tmp_path, cache=mode)
    calls = []
    original = ds._load
    monkeypatch.setattr(ds, "_load", lambda entry: calls.append(entry.key) or original(entry))
    first = [ds[i]["image"].clone() for i in range(4)]
    for _ in range(2):
        for i in range(4):
            sample = ds[i]
            assert torch.equal(sample["image"], first[i])
            sample["image"].zero_()  # an in-place edit must not reach the cache
    assert len(calls) == reads


def test_auto_skips_sets_over_the_limit():
    cache = SampleCache("auto", n_items=1000, limit=1000)
    cache.put("a", {"image": torch.zeros(16, 16, dtype=torch.uint8)})
    assert cache.enabled is False and len(cache) == 0
    small = SampleCache("auto", n_items=2, limit=1000)
    small.put("a", {"image": torch.zeros(16, 16, dtype=torch.uint8)})
    assert small.enabled is True and small.get("a")["image"].shape == (16, 16)
