"""napari layers → a dataset folder emkit's own datasets read (no in-memory shortcut).

Training reads files, so the fine-tune widget writes its layers in the layout of the
built-in ``mask-folder`` (segmentation: ``image/`` + ``mask/``) or ``paired-folder``
(restoration: ``image/`` + ``target/``) datasets, cut into square patches so there is
more than one sample to split and to batch:

    <root>/image/s000_p0003.tif     pixels as in the layer (uint8/uint16/float32 TIFF)
    <root>/mask/s000_p0003.tif      uint8 class ids       (or target/…: the target layer)
    <root>/splits/train.txt, val.txt, test.txt

Patches cover every pixel (the last row and column of patches are shifted inward);
every fifth patch is the validation split (the last one when there are fewer than five;
none when there is a single patch), the test split is empty. Patches whose image is constant (no signal to learn from, and refused by
emkit's readers) are left out. The folder stays next to the run: its ``config.yaml``
names it, so the run can be resumed or evaluated again.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterator, Literal

import numpy as np

from emkit.errors import EmkitError

Kind = Literal["mask", "target"]
#: "foreground": every label > 0 is class 1 (instance labels become a binary mask);
#: "classes": label values are class ids 0..K.
LabelMode = Literal["foreground", "classes"]
#: Every VAL_EVERY-th patch goes to the validation split.
VAL_EVERY = 5
#: Patch sides are multiples of this (the generators' usual size multiple).
MULTIPLE = 16


@dataclasses.dataclass(frozen=True)
class LayerDataset:
    """What was written: the folder, the dataset name, the counts and the patch side."""

    root: Path
    dataset: str
    train: int
    val: int
    patch: int
    classes: int = 0


def patch_side(requested: int, height: int, width: int) -> int:
    """The patch side: ``requested``, shrunk to fit the image, a multiple of ``MULTIPLE``."""
    side = min(int(requested), height, width) // MULTIPLE * MULTIPLE
    if side < 2 * MULTIPLE:
        raise EmkitError(f"the image is {height}x{width} pixels; fine-tuning needs at least "
                         f"{2 * MULTIPLE}x{2 * MULTIPLE}")
    return side


def starts(length: int, side: int) -> list[int]:
    """Patch origins along one axis covering ``0..length`` (the last one shifted inward)."""
    out = list(range(0, length - side + 1, side))
    if out[-1] + side < length:
        out.append(length - side)
    return out


def _patches(arr: np.ndarray, side: int) -> Iterator[tuple[str, tuple[int, slice, slice]]]:
    planes, h, w = arr.shape
    k = 0
    for s in range(planes):
        for y in starts(h, side):
            for x in starts(w, side):
                yield f"s{s:03d}_p{k:04d}", (s, slice(y, y + side), slice(x, x + side))
                k += 1


def as_planes(data: np.ndarray, name: str) -> np.ndarray:
    """``(..., H, W)`` → ``(N, H, W)``."""
    arr = np.asarray(data)
    if arr.ndim < 2:
        raise EmkitError(f"layer {name!r}: expected a 2-D image or a stack, got shape {arr.shape}")
    return arr.reshape(-1, *arr.shape[-2:])


def to_classes(labels: np.ndarray, mode: LabelMode) -> tuple[np.ndarray, int]:
    """uint8 class ids and the class count (background included)."""
    if mode == "foreground":
        return (labels > 0).astype(np.uint8), 2
    if labels.min() < 0 or labels.max() > 255:
        raise EmkitError(f"class ids must be in 0..255, the labels hold {labels.min()}..{labels.max()}")
    return labels.astype(np.uint8), max(int(labels.max()) + 1, 2)


def write_layer_dataset(root: str | Path, image: np.ndarray, partner: np.ndarray, kind: Kind, *,
                        patch: int = 128, label_mode: LabelMode = "foreground",
                        names: tuple[str, str] = ("image", "labels")) -> LayerDataset:
    """Write ``image`` and its ``partner`` (labels or target) under ``root`` (see module docstring)."""
    import tifffile

    img, other = as_planes(image, names[0]), as_planes(partner, names[1])
    if img.shape != other.shape:
        raise EmkitError(f"layers {names[0]!r} {img.shape} and {names[1]!r} {other.shape} differ in shape; "
                         "they must cover the same pixels")
    classes = 0
    if kind == "mask":
        other, classes = to_classes(other, label_mode)
    elif other.dtype.kind not in "uif":
        raise EmkitError(f"layer {names[1]!r}: a restoration target must be an image, got {other.dtype}")
    root = Path(root)
    folders = {"image": root / "image", kind: root / kind, "splits": root / "splits"}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    side = patch_side(patch, *img.shape[-2:])
    kept: list[str] = []
    for key, (s, ys, xs) in _patches(img, side):
        pixels = img[s, ys, xs]
        if pixels.min() == pixels.max():
            continue
        tifffile.imwrite(folders["image"] / f"{key}.tif", _storable(pixels))
        tifffile.imwrite(folders[kind] / f"{key}.tif", _storable(other[s, ys, xs]))
        kept.append(key)
    if not kept:
        raise EmkitError(f"layer {names[0]!r} is constant everywhere: nothing to learn from")
    val = kept[VAL_EVERY - 1::VAL_EVERY] or kept[-1:] if len(kept) > 1 else []
    train = [k for k in kept if k not in set(val)]
    for split, keys in (("train", train), ("val", val), ("test", [])):
        (folders["splits"] / f"{split}.txt").write_text("".join(f"{k}\n" for k in keys))
    dataset = "mask-folder" if kind == "mask" else "paired-folder"
    return LayerDataset(root, dataset, len(train), len(val), side, classes)


def _storable(arr: np.ndarray) -> np.ndarray:
    """TIFF-friendly pixel types: bool → uint8, float64 → float32, int32/64 → float32."""
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8)
    if arr.dtype.kind == "f" or (arr.dtype.kind in "iu" and arr.dtype.itemsize > 2) or arr.dtype.kind == "i":
        return arr.astype(np.float32)
    return np.ascontiguousarray(arr)
