"""Shared fixtures: single-threaded torch and a small synthetic-stem batch with masks."""

from __future__ import annotations

import pytest

from emkit.testing.fixtures import one_thread  # noqa: F401  (autouse: small tensors, one thread)


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
