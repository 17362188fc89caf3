"""au-hdf5 reading of a small chunk-compressed set: per-item reads vs chunk-aware vs cached.

Writes a Sytwu-layout file (24 images, 512², float32, gzip chunks of 8 images), then reads
three shuffled epochs with ``data.cache=none`` item by item (the old way: each read
decompresses the whole 8-image chunk), chunk-aware (``_item``), and with the in-memory
cache (``data.cache=auto``); prints milliseconds per sample side by side.

    python benchmarks/bench_hdf5_chunks.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    import h5py

    from emkit import registry
    from emkit.config.coerce import build_dataclass

    tmp = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    with h5py.File(tmp / "au.h5", "w") as fh:
        fh.create_dataset("images", data=rng.normal(5, 2, (24, 1, 512, 512)).astype(np.float32),
                          chunks=(8, 1, 512, 512), compression="gzip")
        fh.create_dataset("maps", data=(rng.random((24, 2, 512, 512)) > 0.5).astype(np.float32),
                          chunks=(8, 2, 512, 512), compression="gzip")
    cls = registry.load("data", "au-hdf5")
    order = np.random.default_rng(1).permutation(24)
    results = {}
    for label, cache, per_item in (("per-item reads", "none", True), ("chunk-aware", "none", False),
                                   ("chunk-aware + cache", "auto", False)):
        ds = cls(build_dataclass(cls.Config, {"root": str(tmp / "au.h5"), "val_fraction": 0.0,
                                              "test_fraction": 0.0, "cache": cache}, "data"))
        if per_item:
            ds._item = lambda rel, key, i, ds=ds: np.asarray(ds._file(rel)[key][i])
        t0 = time.perf_counter()
        for _ in range(3):
            for i in order:
                ds[int(i)]
        results[label] = (time.perf_counter() - t0) / (3 * len(order)) * 1000
    base = results["per-item reads"]
    for label, ms in results.items():
        print(f"{label:22s} {ms:8.2f} ms/sample   {base / ms:6.1f}x")


if __name__ == "__main__":
    main()
