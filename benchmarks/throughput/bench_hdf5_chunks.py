"""au-hdf5 reading of a small chunk-compressed set: per-item reads vs chunk-aware vs cached.

Writes a Sytwu-layout file (24 images, 512², float32, gzip chunks of 8 images), then reads
three shuffled epochs with ``data.cache=none`` item by item (the old way: each read
decompresses the whole 8-image chunk), chunk-aware (``_item``), and with the in-memory
cache (``data.cache=auto``); prints milliseconds per sample side by side, and what an
epoch after the first costs with the cache (the data are then in memory).

    python -m benchmarks.throughput.bench_hdf5_chunks --results
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import add_dry_run_flag, add_results_flag, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=3, help="shuffled epochs per method")
    add_results_flag(ap, "bench_hdf5_chunks_cpu.txt")
    add_dry_run_flag(ap)
    args = ap.parse_args()
    side = 64 if args.dry_run else 512
    epochs = 1 if args.dry_run else args.epochs
    import h5py

    from emkit.data.build import build_dataset

    tmp = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    with h5py.File(tmp / "au.h5", "w") as fh:
        fh.create_dataset("images", data=rng.normal(5, 2, (24, 1, side, side)).astype(np.float32),
                          chunks=(8, 1, side, side), compression="gzip")
        fh.create_dataset("maps", data=(rng.random((24, 2, side, side)) > 0.5).astype(np.float32),
                          chunks=(8, 2, side, side), compression="gzip")
    order = np.random.default_rng(1).permutation(24)
    results = {}
    for label, cache, per_item in (("per-item reads", "none", True), ("chunk-aware", "none", False),
                                   ("chunk-aware + cache", "auto", False)):
        ds = build_dataset("au-hdf5", {"root": str(tmp / "au.h5"), "val_fraction": 0.0, "test_fraction": 0.0,
                                       "cache": cache})
        if per_item:
            ds._item = lambda rel, key, i, ds=ds: np.asarray(ds._file(rel)[key][i])
        per_epoch = []
        for _ in range(epochs):
            t0 = time.perf_counter()
            for i in order:
                ds[int(i)]
            per_epoch.append((time.perf_counter() - t0) / len(order) * 1000)
        results[label] = per_epoch
    shutil.rmtree(tmp, ignore_errors=True)
    base = sum(results["per-item reads"]) / epochs
    lines = [f"au-hdf5: 24 images {side}x{side} float32, gzip chunks of 8 images, {epochs} shuffled epochs per method",
             ""]
    for label, per_epoch in results.items():
        ms = sum(per_epoch) / epochs
        lines.append(f"{label:22s} {ms:8.2f} ms/sample   {base / ms:6.1f}x")
    cached = results["chunk-aware + cache"]
    if len(cached) > 1:
        lines += ["", f"with the cache, epochs after the first cost {sum(cached[1:]) / len(cached[1:]):.3f} ms/sample"]
    report("\n".join(lines), args.results)


if __name__ == "__main__":
    main()
