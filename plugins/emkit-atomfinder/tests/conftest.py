"""Shared fixtures: single-threaded torch and a small synthetic-stem batch with masks."""

from __future__ import annotations

import pytest

from emkit.testing.fixtures import one_thread  # noqa: F401  (autouse: small tensors, one thread)


@pytest.fixture(scope="session")
def stem_batch():
    """Four 96-px synthetic-stem validation samples served for the segmentation target."""
    from torch.utils.data import default_collate

    from emkit.data.build import build_dataset

    ds = build_dataset("synthetic-stem", {"size": 96, "val_length": 4}, "val", target="segmentation")
    return default_collate([ds[i] for i in range(4)])
