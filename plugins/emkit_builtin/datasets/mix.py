"""``mix``: pool several unlabeled image sources, each with a weight (pretraining data).

A lab pools the folders of its instruments (and emkit's synthetic sets) into one
pretext dataset::

    emkit run pretext=pix2pix data=mix data.sources=[synthetic-cem,synthetic-stem,folder:/data/lab1]
    emkit run pretext=pix2pix data=mix data.sources=[synthetic-cem,folder:/data/a] data.weights=[1,3]

A source is written as

* ``name``: a dataset plugin with its defaults (``synthetic-cem``);
* ``name:root``: a file dataset under a folder (``folder:/data/lab1``), i.e. ``{name: folder, root: /data/lab1}``;
* a mapping ``{name: folder, root: /data/lab1, normalize: percentile, ...}``: any of that
  dataset's options (YAML config files, or quoted on the command line). The extra key
  ``split: train`` pins the source to its train split: every split of the mix then reads
  the source's train items only, so its val/test items are never read (``init=self`` uses
  this for the task data; the mix's validation then monitors fit on training images).

Sample ``i`` of a split comes from source ``k`` with frequency ``weights[k]`` (equal when
unset): the plan of (source, item) pairs is fixed by ``seed`` and the split, exact in
proportion (largest remainder) and cycles through every item of a source before
repeating one, so a small folder pooled with a large synthetic set is repeated, not
dropped. Samples keep only ``image`` (labels of labelled sources are never used) and are
brought to ``size`` x ``size``: larger images are cropped (a random window per sample in
the train split, the centre in val/test), smaller ones reflect-padded; so sources of
different sizes batch together, and the pretext takes its own crop from each sample.
Sources of different dtypes are all served as float32 in [0, 1].
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional, Union

import numpy as np
import torch

from emkit.config.ranges import INT64_MAX, ranged
from emkit.data.geometry import fit
from emkit.errors import ConfigError, DataError
from emkit.interfaces.data_source import DataSource, Sample, Split
from emkit.plugin_api import to_unit

#: The key of a source mapping that pins the source to one split (not a dataset option).
PIN_KEY = "split"
_SPLIT_SALT = {"train": 0x7A1, "val": 0x7A2, "test": 0x7A3}


@dataclasses.dataclass
class MixConfig:
    #: The pooled sources: "name", "name:root" or a mapping {name: ..., <options>, split: train}.
    sources: list[Union[str, dict]] = dataclasses.field(
        default_factory=lambda: ["synthetic-cem", "synthetic-stem", "synthetic-hrtem"])
    #: Relative frequency of each source, in the order of ``sources``; empty = equal.
    weights: list[float] = ranged(lo=0, hi=None, default_factory=list)
    #: Samples in the train / val / test split; None = the sum of the sources' sizes.
    length: Optional[int] = ranged(None, 0, 1_000_000_000)
    val_length: Optional[int] = ranged(None, 0, 1_000_000_000)
    test_length: Optional[int] = ranged(None, 0, 1_000_000_000)
    #: Side of the square samples (choose at least the pretext's crop).
    size: int = ranged(256, 16, 65536)
    #: Seed of the (source, item) plan and of the train-split crop windows.
    seed: int = ranged(0, 0, INT64_MAX)

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError("data.sources must name at least one dataset")
        if self.weights and len(self.weights) != len(self.sources):
            raise ValueError(f"data.weights has {len(self.weights)} values but data.sources has "
                             f"{len(self.sources)} entries; give one weight per source")
        if self.weights and sum(self.weights) <= 0:
            raise ValueError(f"data.weights must have a positive sum, got {self.weights}")


def parse_source(spec: Any, index: int) -> tuple[str, dict[str, Any], Optional[str]]:
    """(dataset name, its options, pinned split or None) of one ``sources`` entry."""
    where = f"data.sources[{index}]"
    if isinstance(spec, str):
        name, sep, root = spec.partition(":")
        if not name:
            raise ConfigError(f"{where}: expected a dataset name, 'name:root' or a mapping, got {spec!r}")
        return name, ({"root": root} if sep else {}), None
    if isinstance(spec, dict):
        options = dict(spec)
        name = options.pop("name", None)
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}: a source mapping needs 'name: <dataset>', got {spec!r}")
        pinned = options.pop(PIN_KEY, None)
        if pinned not in (None, "train", "val", "test"):
            raise ConfigError(f"{where}.{PIN_KEY}: expected train, val or test, got {pinned!r}")
        return name, options, pinned
    raise ConfigError(f"{where}: expected a dataset name, 'name:root' or a mapping, got {spec!r}")


def build_source(spec: Any, index: int, split: Split) -> tuple[str, DataSource]:
    """The dataset of one source for ``split`` (its pinned split, when it has one)."""
    from emkit.data.build import build_dataset

    name, options, pinned = parse_source(spec, index)
    if name == "mix":
        raise ConfigError(f"data.sources[{index}]: a mix cannot contain another mix; list its sources instead")
    if pinned is not None and pinned != "train":
        raise ConfigError(f"data.sources[{index}].{PIN_KEY}: only 'train' can be pinned, got {pinned!r}")
    try:
        return name, build_dataset(name, options, pinned or split)
    except ConfigError as exc:
        raise ConfigError(f"data.sources[{index}] ({name}): {exc}") from exc


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integer counts summing to ``total`` in proportion to ``weights`` (Hamilton's method)."""
    share = weights / weights.sum() * total
    counts = np.floor(share).astype(np.int64)
    short = total - int(counts.sum())
    if short:
        counts[np.argsort(-(share - counts), kind="stable")[:short]] += 1
    return counts


def plan(lengths: list[int], weights: list[float], total: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(source, item) of every mix sample: exact proportions, every item before a repeat, shuffled."""
    w = np.array([wt if n > 0 else 0.0 for wt, n in zip(weights, lengths)], dtype=np.float64)
    if total == 0 or w.sum() <= 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int64)
    counts = largest_remainder(w, total)
    src, item = [], []
    for k, (count, n) in enumerate(zip(counts, lengths)):
        if count == 0:
            continue
        cycles = -(-int(count) // n)
        src.append(np.full(count, k, np.int32))
        item.append(np.concatenate([rng.permutation(n) for _ in range(cycles)])[:count])
    order = rng.permutation(total)
    return np.concatenate(src)[order], np.concatenate(item)[order].astype(np.int64)


class MixDataset(DataSource):
    """Weighted pool of other dataset plugins, images only, one common size."""

    Config = MixConfig
    provides = ()

    def __init__(self, config: MixConfig, split: Split = "train") -> None:
        super().__init__(config, split)
        built = [build_source(spec, i, split) for i, spec in enumerate(config.sources)]
        self.names = [name for name, _ in built]
        self.sources = [ds for _, ds in built]
        lengths = [len(ds) for ds in self.sources]
        weights = list(config.weights) or [1.0] * len(lengths)
        requested = {"train": config.length, "val": config.val_length, "test": config.test_length}[split]
        total = sum(lengths) if requested is None else int(requested)
        if split == "train" and total and not any(n and w > 0 for n, w in zip(lengths, weights)):
            raise DataError("mix: no source with a positive weight has training samples "
                            f"(sizes {dict(zip(self.names, lengths))})")
        rng = np.random.default_rng([config.seed, _SPLIT_SALT[split]])
        self._src, self._item = plan(lengths, weights, total, rng)
        self._channels, self._dtype = self._probe()

    def _probe(self) -> tuple[int, Optional[torch.dtype]]:
        """Channels shared by all sources, and their common dtype (None: mixed → float32)."""
        used = sorted(set(self._src.tolist()))
        images = [self.sources[k][0]["image"] for k in used]
        channels = {img.shape[0] for img in images}
        if len(channels) > 1:
            found = {self.names[k]: img.shape[0] for k, img in zip(used, images)}
            raise DataError(f"mix: the sources have different channel counts {found}; pool sources of one kind")
        dtypes = {img.dtype for img in images}
        return (channels.pop() if channels else 1), (dtypes.pop() if len(dtypes) == 1 else None)

    @property
    def channels(self) -> int:
        return self._channels

    def __len__(self) -> int:
        return len(self._src)

    def _window(self, image: torch.Tensor, index: int) -> torch.Tensor:
        """A ``size`` window: random per sample in train, centred otherwise; pad if smaller."""
        size = self.config.size
        h, w = image.shape[-2:]
        if self.split == "train" and (h > size or w > size):
            rng = np.random.default_rng([self.config.seed, 0xC0, index])
            top = int(rng.integers(0, max(h - size, 0) + 1))
            left = int(rng.integers(0, max(w - size, 0) + 1))
            image = image[..., top : top + size, left : left + size]
        if tuple(image.shape[-2:]) == (size, size):
            return image.contiguous()
        return torch.from_numpy(np.ascontiguousarray(fit(image.numpy(), size)))

    def __getitem__(self, index: int) -> Sample:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for mix {self.split} split of {n}")
        index %= n
        k, item = int(self._src[index]), int(self._item[index])
        sample = self.sources[k][item]
        image = sample["image"]
        if self._dtype is None:
            image = to_unit(image)
        where = sample.get("source", str(item))
        return {"image": self._window(image, index), "source": f"{self.names[k]}:{where}"}

    def problems(self) -> list[tuple[str, str]]:
        return [p for ds in self.sources for p in ds.problems()]
