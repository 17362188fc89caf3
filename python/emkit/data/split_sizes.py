"""How many items each split of a dataset holds, for ``emkit data show``.

Each split is built exactly as a run builds it (so split lists, ``limit`` and
``train_limit`` apply, and overlapping lists are refused); a split that cannot be built
(a missing ``test.txt``, an empty train split) is reported by its reason instead of a size.
"""

from __future__ import annotations

from typing import Any, Callable

from emkit.data.splits import SPLITS, SplitOverlapError
from emkit.errors import DataError


def split_sizes(build: Callable[[str], Any], known: dict[str, Any] | None = None) -> dict[str, int | str]:
    """``{split: size or reason}``; ``build(split)`` returns the dataset of that split.

    ``known`` holds datasets already built (e.g. the split being shown) so they are not
    scanned twice. An overlap between split lists is not a per-split problem: it raises.
    """
    sizes: dict[str, int | str] = {}
    for split in SPLITS:
        if known and split in known:
            sizes[split] = len(known[split])
            continue
        try:
            sizes[split] = len(build(split))
        except SplitOverlapError:
            raise
        except DataError as exc:
            sizes[split] = f"unavailable ({exc})"
    return sizes


def format_sizes(sizes: dict[str, int | str]) -> str:
    """One line: ``splits: train 20 · val 2 · test 2``."""
    return "splits: " + " · ".join(f"{split} {value}" for split, value in sizes.items())
