"""Command-line options every peer driver shares (they run in the peer venv: numpy/stdlib only).

The benchmark passes the same budget to each driver: data folder, output folder, seed, the
steps at which to snapshot, batch size, learning rate and torch CPU threads.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def driver_parser(doc: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, type=Path, help="folder with train/val/test .npy arrays")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", default="30,90,180", help="optimiser steps at which to predict the test set")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (one value for every tool)")
    return ap


def setup(args: argparse.Namespace) -> list[int]:
    """Apply the thread count, create the output folder; returns the sorted snapshot steps."""
    import torch

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    return sorted({int(s) for s in args.steps.split(",")})
