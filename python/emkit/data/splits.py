"""Deterministic train/val/test splits and reproducible subsets.

Each sample has a stable key (its relative file path, ``file#slice`` for stacks). The key
is hashed with the data seed into a number in [0, 1): below ``test_fraction`` it is a
test sample, below ``test_fraction + val_fraction`` a validation sample, otherwise a
training sample. The split therefore does not depend on file order, the machine, or on
files being added later (existing files keep their split), and the same seed always
gives the same split.

``limit=N`` keeps the N samples of a split with the smallest second hash: subsets are
nested (the 50k subset is inside the 100k one), as for the paper's 50k/100k/200k
pretraining sets, and reproducible for a seed. ``train_limit=N`` does the same for the
training split only, so "N labelled training images" never changes the val/test sets.

Split list files (``split_files``) override hashing: a directory holding
``train.txt``/``val.txt``/``test.txt`` or a pattern with ``{split}``, one key per line
(the relative path, its stem for paired datasets, or ``file.h5#i`` for one item of a
container file). A line whose first non-blank character is ``#`` is a comment; ``#``
inside a key is part of the key. Lists are checked to be disjoint *by item* whenever a
split is selected (``file.h5`` in train and ``file.h5#3`` in test overlap), and an
overlap is refused with one ``DataError`` naming both lists and the first shared item.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Optional, Sequence

from emkit.config.ranges import INT64_MAX, ranged
from emkit.errors import DataError


@dataclasses.dataclass
class SplitConfig:
    """Where a dataset lives and how it is split: shared by the file and packed datasets."""

    #: Folder (or file) holding the data.
    root: str = ""
    #: Fractions of samples hashed into the validation and test splits.
    val_fraction: float = ranged(0.05, 0, 1, exclusive_max=True)
    test_fraction: float = ranged(0.0, 0, 1, exclusive_max=True)
    #: Directory with train.txt/val.txt/test.txt, or a pattern containing "{split}";
    #: replaces the hashed split when set.
    split_files: Optional[str] = None
    #: Keep at most this many samples of the split (seeded, nested subsets).
    limit: Optional[int] = ranged(None, 1, None)
    #: Keep at most this many *training* samples (seeded, nested); val/test untouched.
    train_limit: Optional[int] = ranged(None, 1, None)
    #: Seed of the split and subset hashes (changing it reshuffles the splits).
    seed: int = ranged(0, 0, INT64_MAX)

SPLITS = ("train", "val", "test")


class SplitOverlapError(DataError):
    """Split lists that put one item into two splits (train/test leakage)."""


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
    """Keys listed in a split file: one per line; blank lines and lines starting with ``#``
    are skipped, while ``#`` inside a key (``file.h5#3``) is kept."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot read split list ({exc.strerror or exc})") from None
    keys = [line.strip() for line in lines]
    return [k for k in keys if k and not k.startswith("#")]


def _listed(keys: Sequence[str], aliases: Optional[Sequence[str]], wanted: Sequence[str]) -> list[int]:
    wanted_set = set(wanted)
    return [
        i for i, k in enumerate(keys)
        if k in wanted_set or (aliases is not None and aliases[i] in wanted_set)
    ]


def check_disjoint(keys: Sequence[str], split_files: str, aliases: Optional[Sequence[str]] = None) -> None:
    """Refuse split lists that put one item into two splits (matched by key or alias).

    Lists that do not exist are skipped here (selecting that split reports them).
    """
    owner: dict[int, str] = {}
    for split in SPLITS:
        path = split_list_path(split_files, split)
        if not path.exists():
            continue
        for i in _listed(keys, aliases, read_split_list(path)):
            if i in owner and owner[i] != split:
                other = split_list_path(split_files, owner[i])
                raise SplitOverlapError(
                    f"{other} and {path} both contain item {keys[i]!r}: train/val/test must be disjoint "
                    "(a whole-file entry such as 'file.h5' covers every 'file.h5#i')"
                )
            owner[i] = split


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
        check_disjoint(keys, split_files, aliases)
        path = split_list_path(split_files, split)
        wanted = read_split_list(path)
        chosen = _listed(keys, aliases, wanted)
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


def select_items(keys: Sequence[str], split: str, config: SplitConfig,
                 aliases: Optional[Sequence[str]] = None) -> list[int]:
    """The indices of ``split`` under ``config``: split lists or hashing, then ``limit``
    (every split) and ``train_limit`` (training split only), both seeded by ``config.seed``."""
    chosen = select_split(
        keys, split, seed=config.seed, val_fraction=config.val_fraction,
        test_fraction=config.test_fraction, split_files=config.split_files, aliases=aliases,
    )
    chosen = apply_limit(chosen, keys, config.limit, config.seed)
    train_limit = getattr(config, "train_limit", None)
    if split == "train" and train_limit is not None:
        if train_limit <= 0:
            raise DataError(f"data.train_limit must be a positive number of training items, got {train_limit}")
        if train_limit > len(chosen):
            raise DataError(
                f"data.train_limit={train_limit} but the train split holds only {len(chosen)} items; "
                "lower train_limit or add data"
            )
        chosen = apply_limit(chosen, keys, train_limit, config.seed)
    return chosen

