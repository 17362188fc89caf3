"""Behavioural contract of a ``DataSource`` plugin: splits, samples, targets, workers.

The dataset is built like a run builds it (config validated as command-line values)
with ``TINY_DATA`` applied to the fields it has, plus the caller's ``config`` values.
A dataset that cannot be built from those values alone -- it needs a ``root`` with files
-- is *skipped*, not failed, unless the caller passed ``config`` (then it must build):
point ``config={"root": ...}`` at a small corpus to check such a dataset.

Options: ``config`` (dataset values), ``samples`` (how many samples to inspect, 2).
"""

from __future__ import annotations

import pickle
from typing import Any, Mapping

import torch

from emkit.errors import EmkitError
from emkit.data.build import build_dataset
from emkit.testing import harness

IMAGE_DTYPES = (torch.uint8, torch.uint16, torch.float32)


def _options(options: Mapping[str, Any]) -> dict[str, Any]:
    known = {"config", "samples"}
    unknown = set(options) - known
    if unknown:
        raise TypeError(f"unknown dataset check option(s) {sorted(unknown)}; known: {sorted(known)}")
    return {"config": None, "samples": 2, **options}


def build_split(name: str, split: str = "train", target: str | None = None, **options: Any) -> Any:
    """The dataset's ``split``; ``ContractSkip`` when default values cannot build it."""
    opts = _options(options)
    values = harness.tiny_data_values(name, opts["config"])
    try:
        return build_dataset(name, values, split, target)
    except EmkitError as exc:
        if opts["config"] is None:
            raise harness.ContractSkip(
                f"dataset {name!r} cannot be built from default values ({exc}); pass config={{'root': ...}}"
            ) from exc
        raise


def _check_sample(name: str, ds: Any, index: int) -> dict[str, Any]:
    sample = ds[index]
    where = f"{name}[{index}]"
    assert isinstance(sample, dict), f"{where} must be a dict (Sample), got {type(sample).__name__}"
    image = sample.get("image")
    assert torch.is_tensor(image) and image.dim() == 3, f"{where}['image'] must be a (C, H, W) tensor"
    assert image.dtype in IMAGE_DTYPES, f"{where}['image'] is {image.dtype}; use uint8, uint16 or float32"
    assert image.shape[0] == ds.channels, f"{where}['image'] has {image.shape[0]} channels, channels says {ds.channels}"
    if image.is_floating_point():
        assert torch.isfinite(image).all(), f"{where}['image'] has non-finite values"
    for key in ds.provides:
        assert key in sample, f"{where} lacks {key!r} although provides = {tuple(ds.provides)}"
    if "target" in sample:
        target = sample["target"]
        assert torch.is_tensor(target) and target.dim() == 3 and target.shape[-2:] == image.shape[-2:], (
            f"{where}['target'] must be (C, H, W) with the image's size {tuple(image.shape[-2:])}"
        )
        assert target.dtype in IMAGE_DTYPES, f"{where}['target'] is {target.dtype}"
    if "mask" in sample:
        mask = sample["mask"]
        assert torch.is_tensor(mask) and tuple(mask.shape) == (1, *image.shape[-2:]), (
            f"{where}['mask'] must be (1, H, W) like the image, got {tuple(getattr(mask, 'shape', ()))}"
        )
        assert mask.dtype == torch.uint8, f"{where}['mask'] must hold uint8 class indices, got {mask.dtype}"
    if "source" in sample:
        assert isinstance(sample["source"], str), f"{where}['source'] must be a str"
    return sample


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(
        torch.equal(a[k], b[k]) if torch.is_tensor(a[k]) else a[k] == b[k] for k in a
    )


def check_dataset_splits(name: str, **options: Any) -> None:
    """Every split builds; lengths are ints; ``provides`` and ``channels`` are valid."""
    for split in ("train", "val", "test"):
        ds = build_split(name, split, **options)
        n = len(ds)
        assert isinstance(n, int) and n >= 0, f"len() of the {split} split must be an int >= 0, got {n!r}"
        assert set(ds.provides) <= {"target", "mask"}, f"provides may name 'target' and 'mask', got {ds.provides}"
        assert isinstance(ds.channels, int) and ds.channels >= 1, "channels must be a positive int"
        problems = ds.problems()
        assert isinstance(problems, list), "problems() must return a list of (file, reason)"


def check_dataset_samples(name: str, **options: Any) -> None:
    """Samples have the documented layout, are the same on every access, collate into a
    batch, and indexing past the end raises ``IndexError``."""
    from torch.utils.data import default_collate

    opts = _options(options)
    ds = build_split(name, "train", **options)
    if len(ds) == 0:
        raise harness.ContractSkip(f"dataset {name!r} has no training samples with these values")
    for i in range(min(opts["samples"], len(ds))):
        sample = _check_sample(name, ds, i)
        assert _same(sample, ds[i]), f"{name}[{i}] differs between two reads: samples must be deterministic"
    batch = default_collate([ds[0], ds[0]])
    assert batch["image"].shape[0] == 2, "samples do not collate into a batch"
    try:
        ds[len(ds)]
    except IndexError:
        pass
    else:
        raise AssertionError(f"{name}[len] must raise IndexError (the end of a Python sequence)")


def check_dataset_targets(name: str, **options: Any) -> None:
    """``select_target(kind)`` either serves the kind (``mask`` for segmentation, ``target``
    for restoration, in ``provides`` and in the samples) or refuses with an ``EmkitError``."""
    from emkit.data.targets import TASK_KINDS

    for kind in TASK_KINDS:
        ds = build_split(name, "train", **options)
        try:
            ds.select_target(kind)
        except (EmkitError, NotImplementedError):
            continue
        key = "mask" if kind == "segmentation" else "target"
        assert key in ds.provides, f"after select_target({kind!r}) provides must include {key!r}, got {ds.provides}"
        if len(ds):
            assert key in _check_sample(name, ds, 0), f"after select_target({kind!r}) samples lack {key!r}"


def check_dataset_pickle(name: str, **options: Any) -> None:
    """The dataset survives pickling (DataLoader workers started with spawn receive a copy)."""
    ds = build_split(name, "train", **options)
    try:
        copy = pickle.loads(pickle.dumps(ds))
    except Exception as exc:  # noqa: BLE001 - name what cannot be pickled
        raise AssertionError(f"the dataset cannot be pickled for DataLoader workers: {type(exc).__name__}: {exc}")
    assert len(copy) == len(ds), "a pickled copy has a different length"
    if len(ds):
        assert _same(copy[0], ds[0]), "a pickled copy serves a different sample 0"


DATA_CHECKS = [
    ("splits", check_dataset_splits),
    ("samples", check_dataset_samples),
    ("targets", check_dataset_targets),
    ("pickle", check_dataset_pickle),
]

