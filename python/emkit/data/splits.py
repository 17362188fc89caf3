"""Deterministic train/val/test splits and reproducible subsets.

Each sample has a stable key (its relative file path, ``file#slice`` for stacks). The key
is hashed with the data seed into a number in [0, 1): below ``test_fraction`` it is a
test sample, below ``test_fraction + val_fraction`` a validation sample, otherwise a
training sample. The split therefore does not depend on file order, the machine, or on
files being added later (existing files keep their split), and the same seed always
gives the same split.

``limit=N`` keeps the N samples of a split with the smallest second hash: subsets are
nested (the 50k subset is inside the 100k one), as for the paper's 50k/100k/200k
pretraining sets, and reproducible for a seed.

Split list files (``split_files``) override hashing: a directory holding
``train.txt``/``val.txt``/``test.txt`` or a pattern with ``{split}``, one key per line
(the relative path, or its stem for paired datasets), ``#`` comments allowed.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Optional, Sequence

from emkit.errors import DataError


@dataclasses.dataclass
class SplitConfig:
    """Where a dataset lives and how it is split: shared by the file and packed datasets."""

    #: Folder (or file) holding the data.
    root: str = ""
    #: Fractions of samples hashed into the validation and test splits.
    val_fraction: float = dataclasses.field(default=0.05, metadata={"range": (0, 1), "exclusive_max": True})
    test_fraction: float = dataclasses.field(default=0.0, metadata={"range": (0, 1), "exclusive_max": True})
    #: Directory with train.txt/val.txt/test.txt, or a pattern containing "{split}";
    #: replaces the hashed split when set.
    split_files: Optional[str] = None
    #: Keep at most this many samples of the split (seeded, nested subsets).
    limit: Optional[int] = dataclasses.field(default=None, metadata={"range": (1, 1000000000000)})
    #: Seed of the split and subset hashes (changing it reshuffles the splits).
    seed: int = dataclasses.field(default=0, metadata={"range": (0, 2**63 - 1)})

SPLITS = ("train", "val", "test")


def unit_hash(key: str, seed: int, salt: str = "split") -> float:
    """A uniform number in [0, 1) fixed by ``(key, seed, salt)``."""
    # surrogateescape: file names that are not UTF-8 hash by their bytes instead of failing
    digest = hashlib.blake2b(f"{salt}:{seed}:{key}".encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2.0**64


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    if not (0.0 <= val_fraction < 1.0 and 0.0 <= test_fraction < 1.0):
        raise DataError(f"val_fraction and test_fraction must be in [0, 1), got {val_fraction}, {test_fraction}")
    if val_fraction + test_fraction >= 1.0:
        raise DataError(
            f"val_fraction + test_fraction must be below 1 (nothing left to train on), "
            f"got {val_fraction} + {test_fraction}"
        )


def assign_split(key: str, seed: int, val_fraction: float, test_fraction: float) -> str:
    """"train", "val" or "test" for ``key``."""
    u = unit_hash(key, seed)
    if u < test_fraction:
        return "test"
    if u < test_fraction + val_fraction:
        return "val"
    return "train"


def split_list_path(split_files: str, split: str) -> Path:
    """The list file of ``split``: ``DIR/<split>.txt`` or the pattern with ``{split}`` filled."""
    if "{split}" in split_files:
        return Path(split_files.format(split=split))
    return Path(split_files) / f"{split}.txt"


def read_split_list(path: Path) -> list[str]:
    """Keys listed in a split file (blank lines and ``#`` comments ignored)."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot read split list ({exc.strerror or exc})") from None
    keys = [line.split("#", 1)[0].strip() for line in lines]
    return [k for k in keys if k]


def select_split(
    keys: Sequence[str],
    split: str,
    *,
    seed: int = 0,
    val_fraction: float = 0.0,
    test_fraction: float = 0.0,
    split_files: Optional[str] = None,
    aliases: Optional[Sequence[str]] = None,
) -> list[int]:
    """Indices of ``keys`` that belong to ``split`` (in their original order).

    With ``split_files`` a key is selected when it, or its alias (e.g. the file stem),
    appears in the split's list; listed keys matching nothing raise a ``DataError``.
    """
    if split not in SPLITS:
        raise DataError(f"Unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    if split_files:
        path = split_list_path(split_files, split)
        wanted = read_split_list(path)
        wanted_set = set(wanted)
        chosen = [
            i for i, k in enumerate(keys)
            if k in wanted_set or (aliases is not None and aliases[i] in wanted_set)
        ]
        matched = {keys[i] for i in chosen} | ({aliases[i] for i in chosen} if aliases is not None else set())
        missing = [k for k in wanted if k not in matched]
        if missing:
            raise DataError(
                f"{path}: {len(missing)} listed entries match no file (first: {missing[0]!r})"
            )
        return chosen
    check_fractions(val_fraction, test_fraction)
    return [i for i, k in enumerate(keys) if assign_split(k, seed, val_fraction, test_fraction) == split]


def apply_limit(indices: Sequence[int], keys: Sequence[str], limit: Optional[int], seed: int = 0) -> list[int]:
    """At most ``limit`` of ``indices``: a seeded, nested, order-preserving subset."""
    if limit is None or limit >= len(indices):
        return list(indices)
    if limit < 0:
        raise DataError(f"limit must be positive, got {limit}")
    ranked = sorted(indices, key=lambda i: unit_hash(keys[i], seed, "limit"))
    keep = set(ranked[:limit])
    return [i for i in indices if i in keep]
