"""Shared fixtures: single-threaded torch and a small synthetic-stem batch with masks."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """Small tensors: a second intra-op thread only adds contention on a 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def stem_batch():
    """Four 96-px synthetic-stem validation samples served for the segmentation target."""
    from torch.utils.data import default_collate

    from emkit import registry
    from emkit.config.coerce import build_dataclass

    cls = registry.load("data", "synthetic-stem")
    ds = cls(build_dataclass(cls.Config, {"size": 96, "val_length": 4}, "data"), "val")
    ds.select_target("segmentation")
    return default_collate([ds[i] for i in range(4)])
