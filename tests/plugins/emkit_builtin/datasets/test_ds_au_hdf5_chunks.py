"""au-hdf5 decodes a multi-image chunk once for all its images."""

from __future__ import annotations

import h5py
import numpy as np


def test_chunked_files_read_the_same_values_one_chunk_at_a_time(build, tmp_path):
    rng = np.random.default_rng(0)
    images = rng.normal(5, 2, (10, 1, 16, 16)).astype(np.float32)
    maps = (rng.random((10, 2, 16, 16)) > 0.5).astype(np.float32)
    with h5py.File(tmp_path / "c.h5", "w") as fh:
        fh.create_dataset("images", data=images, chunks=(4, 1, 16, 16), compression="gzip")
        fh.create_dataset("maps", data=maps, chunks=(4, 2, 16, 16), compression="gzip")
    ds = build("au-hdf5", root=str(tmp_path), val_fraction=0.0, test_fraction=0.0, normalize="none", cache="none")
    for i in range(10):
        sample = ds[i]
        assert np.array_equal(sample["image"][0].numpy(), images[i, 0])
        assert np.array_equal(sample["mask"][0].numpy(), (maps[i, 1] > 0.5).astype(np.uint8))
    starts = sorted({start for (_, key, start) in ds._blocks if key == "images"})
    assert starts == [4, 8]  # chunks 0-3, 4-7, 8-9 decoded once each; the oldest evicted (4 kept)
    assert len(ds._blocks) == 4
