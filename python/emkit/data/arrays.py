"""Arrays in memory → a dataset folder emkit's own folder datasets read (no in-memory shortcut).

Training reads files, so arrays handed to ``emkit.train(images=..., masks=...)`` (a
notebook) or painted in napari are first written in the layout of the built-in
``mask-folder`` (segmentation: ``image/`` + ``mask/``) or ``paired-folder`` (restoration:
``image/`` + ``target/``) datasets, with explicit split files::

    <root>/image/s000_p0003.tif     pixels as given (uint8/uint16/float32 TIFF)
    <root>/mask/s000_p0003.tif      uint8 class ids    (or target/…: the target image)
    <root>/splits/train.txt, val.txt, test.txt

The run's config.yaml names the folder like any other dataset, so a run trained from
arrays resumes, evaluates and sweeps exactly as one trained from files, and gives the
same result as the same arrays written to TIFF by hand. ``root`` is chosen by the caller
(``content_root`` names it by a hash of the arrays, so the same arrays reuse one folder).

Items: every 2-D plane of ``images`` (``(H, W)``, ``(N, H, W)`` or a list of 2-D arrays
of any sizes), or, with ``patch``, square patches cut from them (large napari layers):
patches cover every pixel (the last row and column of patches shifted inward) and
planes/patches whose image is constant (no signal, refused by the readers) are left out.
Validation items are the ``val`` arrays when given, else every ``VAL_EVERY``-th item
(the last one when there are fewer; none when there is a single item). The test split
is ``test`` when given, else empty.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any, Iterator, Literal, Optional

import numpy as np

from emkit.errors import DataError

Kind = Literal["mask", "target"]
#: "foreground": every label > 0 is class 1 (instance labels become a binary mask);
#: "classes": label values are class ids 0..K.
LabelMode = Literal["foreground", "classes"]
#: Every VAL_EVERY-th item goes to the validation split when no ``val`` arrays are given.
VAL_EVERY = 5
#: Patch sides are multiples of this (the generators' usual size multiple).
MULTIPLE = 16
#: Smallest image side training accepts.
MIN_SIDE = 16


@dataclasses.dataclass(frozen=True)
class ArrayDataset:
    """What was written: the folder, the dataset plugin to read it, split sizes, patch side."""

    root: Path
    dataset: str
    train: int
    val: int
    test: int
    patch: Optional[int]
    classes: int = 0

    def overrides(self) -> list[str]:
        """The ``data.*`` overrides of a run reading this folder."""
        items = [f"data={self.dataset}", f"data.root={self.root}", f"data.split_files={self.root / 'splits'}"]
        if self.dataset == "mask-folder":
            items.append("data.mask_mode=index")
        return items


def as_planes(data: Any, name: str) -> list[np.ndarray]:
    """``(H, W)``, ``(..., H, W)`` or a list of 2-D arrays (numpy or torch) → 2-D numpy planes."""
    if isinstance(data, (list, tuple)):
        planes = [p for i, item in enumerate(data) for p in as_planes(item, f"{name}[{i}]")]
    else:
        arr = _numpy(data, name)
        if arr.ndim < 2:
            raise DataError(f"{name}: expected a 2-D image, a stack (N, H, W) or a list of images, "
                            f"got shape {arr.shape}")
        planes = list(arr.reshape(-1, *arr.shape[-2:]))
    if not planes:
        raise DataError(f"{name}: no images (empty)")
    return planes


def _numpy(data: Any, name: str) -> np.ndarray:
    if hasattr(data, "detach") and hasattr(data, "cpu"):  # a torch tensor
        data = data.detach().cpu().numpy()
    arr = np.asarray(data)
    if arr.size == 0:
        raise DataError(f"{name}: no pixels (empty array of shape {arr.shape})")
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8)
    if arr.dtype.kind not in "uif":
        raise DataError(f"{name}: unsupported pixel type {arr.dtype} (expected integers or floats)")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise DataError(f"{name}: {bad} NaN/Inf pixel(s); fill or crop them before training")
    return arr


def check_pairs(images: list[np.ndarray], partners: list[np.ndarray], names: tuple[str, str]) -> None:
    """Same number of planes and the same shape plane by plane; one error naming both arguments."""
    if len(images) != len(partners):
        raise DataError(f"{names[0]} has {len(images)} image(s) but {names[1]} has {len(partners)}; "
                        "give one per image")
    for i, (a, b) in enumerate(zip(images, partners)):
        if a.shape != b.shape:
            raise DataError(f"{names[0]}[{i}] {a.shape} and {names[1]}[{i}] {b.shape} differ in shape; "
                            "they must cover the same pixels")
        if min(a.shape) < MIN_SIDE:
            raise DataError(f"{names[0]}[{i}] is {a.shape[0]}x{a.shape[1]} pixels; training needs at least "
                            f"{MIN_SIDE}x{MIN_SIDE}")


def to_classes(labels: np.ndarray, mode: LabelMode, name: str) -> np.ndarray:
    """uint8 class ids (``foreground``: > 0 → 1)."""
    if mode == "foreground":
        return (labels > 0).astype(np.uint8)
    if labels.dtype.kind == "f" and not np.array_equal(labels, np.round(labels)):
        raise DataError(f"{name}: class ids must be whole numbers, got fractional values")
    if labels.min() < 0 or labels.max() > 255:
        raise DataError(f"{name}: class ids must be in 0..255, got {labels.min()}..{labels.max()}")
    return labels.astype(np.uint8)


def patch_side(requested: int, planes: list[np.ndarray], name: str) -> int:
    """The patch side: ``requested``, shrunk to fit the smallest image, a multiple of ``MULTIPLE``."""
    h = min(p.shape[0] for p in planes)
    w = min(p.shape[1] for p in planes)
    side = min(int(requested), h, w) // MULTIPLE * MULTIPLE
    if side < 2 * MULTIPLE:
        raise DataError(f"{name}: the smallest image is {h}x{w} pixels; training on patches needs at least "
                        f"{2 * MULTIPLE}x{2 * MULTIPLE}")
    return side


def starts(length: int, side: int) -> list[int]:
    """Patch origins along one axis covering ``0..length`` (the last one shifted inward)."""
    out = list(range(0, length - side + 1, side))
    if out[-1] + side < length:
        out.append(length - side)
    return out


def items(planes: list[np.ndarray], side: Optional[int], prefix: str) -> Iterator[tuple[str, int, tuple]]:
    """``(key, plane index, (rows, cols) slices)`` of every item: whole planes, or patches."""
    k = 0
    for s, plane in enumerate(planes):
        if side is None:
            yield f"{prefix}{s:04d}", s, (slice(None), slice(None))
            continue
        for y in starts(plane.shape[0], side):
            for x in starts(plane.shape[1], side):
                yield f"{prefix}{s:03d}_p{k:04d}", s, (slice(y, y + side), slice(x, x + side))
                k += 1


#: Pixel types written as they are, so the readers normalise them exactly as they would
#: the user's own TIFFs; anything else (float16, 64-bit integers) becomes float32.
KEPT_DTYPES = tuple(np.dtype(t) for t in ("uint8", "uint16", "uint32", "int8", "int16", "int32", "float32", "float64"))


def storable(arr: np.ndarray) -> np.ndarray:
    """The plane in a TIFF pixel type (its own where TIFF and the readers support it)."""
    if arr.dtype in KEPT_DTYPES:
        return np.ascontiguousarray(arr)
    return arr.astype(np.float32)


def content_root(base: str | Path, *arrays: Any, extra: str = "") -> Path:
    """``base/<hash>``: a folder named by the arrays' bytes, shapes and dtypes and ``extra`` (the
    options that change what is written), so the same data reuse one folder."""
    digest = hashlib.sha256(extra.encode())
    for group in arrays:
        for plane in (as_planes(group, "arrays") if group is not None else []):
            digest.update(str((plane.shape, plane.dtype.str)).encode())
            digest.update(np.ascontiguousarray(plane).tobytes())
        digest.update(b"|")
    return Path(base) / digest.hexdigest()[:16]


def write_split(folders: dict[str, Path], kind: Kind, images: list[np.ndarray], partners: list[np.ndarray],
                side: Optional[int], prefix: str) -> list[str]:
    """Write the items of one group of planes; return the keys kept."""
    import tifffile

    kept = []
    for key, s, where in items(images, side, prefix):
        pixels = images[s][where]
        if pixels.min() == pixels.max():
            continue
        tifffile.imwrite(folders["image"] / f"{key}.tif", storable(pixels))
        tifffile.imwrite(folders[kind] / f"{key}.tif", storable(partners[s][where]))
        kept.append(key)
    return kept


def write_array_dataset(root: str | Path, kind: Kind, images: Any, partners: Any, *,
                        val: Optional[tuple[Any, Any]] = None, test: Optional[tuple[Any, Any]] = None,
                        patch: Optional[int] = None, label_mode: LabelMode = "foreground",
                        names: tuple[str, str] = ("images", "masks")) -> ArrayDataset:
    """Write ``images`` and their ``partners`` (masks or targets) under ``root`` (module docstring)."""
    groups: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for split, pair, suffix in (("train", (images, partners), ""), ("val", val, " (val)"), ("test", test, " (test)")):
        if pair is None:
            continue
        img = as_planes(pair[0], names[0] + suffix)
        other = as_planes(pair[1], names[1] + suffix)
        check_pairs(img, other, (names[0] + suffix, names[1] + suffix))
        if kind == "mask":
            other = [to_classes(o, label_mode, names[1] + suffix) for o in other]
        groups[split] = (img, other)
    side = patch_side(patch, groups["train"][0], names[0]) if patch else None
    root = Path(root)
    folders = {"image": root / "image", kind: root / kind, "splits": root / "splits"}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    keys = {split: write_split(folders, kind, *groups[split], side, f"{split[:2]}")
            for split in groups}
    if not keys["train"]:
        raise DataError(f"{names[0]}: every image is constant; nothing to learn from")
    if "val" not in groups:
        kept = keys["train"]
        keys["val"] = (kept[VAL_EVERY - 1::VAL_EVERY] or kept[-1:]) if len(kept) > 1 else []
        keys["train"] = [k for k in kept if k not in set(keys["val"])]
    keys.setdefault("test", [])
    for split in ("train", "val", "test"):
        (folders["splits"] / f"{split}.txt").write_text("".join(f"{k}\n" for k in keys[split]))
    classes = max(2, max(int(o.max()) for o in groups["train"][1]) + 1) if kind == "mask" else 0
    dataset = "mask-folder" if kind == "mask" else "paired-folder"
    return ArrayDataset(root, dataset, len(keys["train"]), len(keys["val"]), len(keys["test"]), side, classes)


def partner_kind(task_kind: str) -> Kind:
    """``mask`` for segmentation, ``target`` for restoration tasks."""
    return "mask" if task_kind == "segmentation" else "target"
