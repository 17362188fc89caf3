"""Loading throughput: 224x224 8-bit TIFFs read file by file vs from packed shards.

Writes its own corpus (CEM500K layout: source folders of 224x224 uint8 TIFFs, content
from ``synthetic-cem``) to a temporary folder, packs it with ``emkit data pack``'s
``pack_folder``, and measures images/s for

* ``read_image`` per file (tifffile: open, parse, read, validate),
* the ``folder`` dataset's ``__getitem__`` (the same plus normalisation and tensor),
* the ``packed`` dataset's ``__getitem__`` (zero-copy memory-map slice),
* ``packed.batch`` (one gather per batch of 64 random indices),
* a ``DataLoader`` (batch 64, shuffled, collate included) over each dataset,

all in one run and one process, each the best of ``--repeats``. Both paths read from
the OS page cache (the corpus was just written), so the comparison isolates per-file
overhead -- on a cold disk or network file system the gap is larger.

    python -m benchmarks.throughput.bench_loading --files 2000 --results
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from benchmarks.common import add_dry_run_flag, add_results_flag, report


def best_rate(fn: Callable[[], int], repeats: int) -> float:
    """Items per second of ``fn`` (which returns how many items it handled), best of N."""
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        n = fn()
        best = max(best, n / (time.perf_counter() - t))
    return best


def write_corpus(root: Path, n: int, size: int = 224, sources: int = 4, unique: int = 100) -> None:
    """``n`` TIFFs; ``unique`` rendered images, reused with flips/rolls (reading cost is the same)."""
    import tifffile

    from emkit.data.synthetic.cem import render_cem
    from emkit.data.synthetic.fields import rng_for

    base = [render_cem(rng_for(0, "cem", "train", i), size) for i in range(min(unique, n))]
    for i in range(n):
        img = base[i % len(base)]
        img = np.roll(img[::-1] if (i // len(base)) % 2 else img, i // (2 * len(base)), axis=1)
        folder = root / f"source_{i % sources:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(folder / f"img_{i:06d}.tif", np.ascontiguousarray(img))


def build(name: str, **values):
    from emkit.data.build import build_dataset

    return build_dataset(name, values, "train")


def measure_rows(src: Path, packed_dir: Path, args: argparse.Namespace) -> list[tuple[str, float]]:
    """Images/s of each loading method over the corpus (best of ``args.repeats``)."""
    from emkit.data.readers import list_images, read_image

    files = [src / f for f in list_images(src)]
    folder = build("folder", root=str(src), val_fraction=0.0)
    packed = build("packed", root=str(packed_dir), val_fraction=0.0)
    assert len(folder) == len(packed) == args.files
    rng = np.random.default_rng(0)

    def read_files() -> int:
        for f in files:
            read_image(f)
        return len(files)

    def folder_items() -> int:
        for i in range(len(folder)):
            folder[i]
        return len(folder)

    def packed_items() -> int:
        for i in range(len(packed)):
            packed[i]
        return len(packed)

    def packed_batches() -> int:
        order = rng.permutation(len(packed))
        n = 0
        for s in range(0, len(order), args.batch):
            n += packed.batch(order[s : s + args.batch])["image"].shape[0]
        return n

    def loader(ds) -> Callable[[], int]:
        def go() -> int:
            dl = torch.utils.data.DataLoader(ds, batch_size=args.batch, shuffle=True, num_workers=0)
            return sum(b["image"].shape[0] for b in dl)

        return go

    rows = [
        ("file by file: read_image (tifffile)", best_rate(read_files, args.repeats)),
        ("folder dataset __getitem__", best_rate(folder_items, args.repeats)),
        ("packed dataset __getitem__ (zero-copy)", best_rate(packed_items, args.repeats)),
        (f"packed.batch gather ({args.batch}, random order)", best_rate(packed_batches, args.repeats)),
        (f"DataLoader(folder), batch {args.batch}, shuffled", best_rate(loader(folder), args.repeats)),
        (f"DataLoader(packed), batch {args.batch}, shuffled", best_rate(loader(packed), args.repeats)),
    ]
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    add_results_flag(ap, "bench_loading_cpu.txt")
    add_dry_run_flag(ap)
    ap.add_argument("--workdir", type=Path, default=None, help="where to write the corpus (default: a temp dir)")
    args = ap.parse_args(argv)
    if args.dry_run:
        args.files, args.repeats, args.batch = 8, 1, 4
    torch.set_num_threads(1)

    from emkit.data.packed import pack_folder

    tmp = Path(tempfile.mkdtemp(prefix="emkit-bench-", dir=args.workdir))
    try:
        src, packed_dir = tmp / "corpus", tmp / "packed"
        t = time.perf_counter()
        write_corpus(src, args.files)
        t_write = time.perf_counter() - t
        t = time.perf_counter()
        pack_folder(src, packed_dir)
        t_pack = time.perf_counter() - t

        rows = measure_rows(src, packed_dir, args)
        base = rows[0][1]
        lines = [
            "emkit loading benchmark: 224x224 uint8 TIFFs, file by file vs packed shards",
            f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
            f"python {platform.python_version()} torch {torch.__version__} numpy {np.__version__}",
            f"corpus: {args.files} files in 4 source folders (synthetic-cem content), page cache warm; "
            f"best of {args.repeats}; torch threads 1, num_workers 0",
            f"one-off costs: writing corpus {t_write:.1f} s, packing {t_pack:.2f} s "
            f"({args.files / t_pack:.0f} files/s incl. validation)",
            "",
            f"{'method':<48} {'images/s':>12} {'vs file-by-file':>16}",
            f"{'-' * 48} {'-' * 12} {'-' * 16}",
        ]
        for name, rate in rows:
            lines.append(f"{name:<48} {rate:>12,.0f} {rate / base:>15.1f}x")
        folder_dl, packed_dl = rows[4][1], rows[5][1]
        lines += [
            "",
            f"packed vs file by file: {rows[2][1] / base:.1f}x per item, {rows[3][1] / base:.1f}x batched; "
            f"through a DataLoader {packed_dl / folder_dl:.1f}x (target >= 10x)",
        ]
        report("\n".join(lines), args.results)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
