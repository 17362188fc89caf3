"""Base of datasets that pair an input folder with target/mask folders by file name.

TEMImageNet, a user's ``image/`` + ``target/`` restoration pairs and ``image/`` + ``mask/``
segmentation pairs all share one layout: files with the same relative path minus the
extension (``a/001.png`` ~ ``a/001.tif``) in sibling folders belong together. Unpaired
files are an error (``on_error=raise``) or skipped and reported (``skip``). Split keys
are the pair names, so list files may name ``001`` or ``a/001``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Literal, Optional

import numpy as np

from emkit.config.ranges import ranged
from emkit.data.filedataset import Entry, FileConfig, FileDataset
from emkit.data.geometry import fit
from emkit.data.readers import BadFileError, as_2d, check_pixels, read_image
from emkit.errors import DataError
from emkit.interfaces.data_source import Sample


@dataclasses.dataclass
class PairedConfig(FileConfig):
    val_fraction: float = ranged(0.1, 0, 1, exclusive_max=True)
    test_fraction: float = ranged(0.1, 0, 1, exclusive_max=True)
    #: Sub-folder of root holding the inputs.
    image_dir: str = "image"


@dataclasses.dataclass
class MaskOptions:
    """How mask files become class indices."""

    #: "binary": pixel > threshold -> 1; "index": values are class ids already;
    #: "auto": recognise the encoding (see ``mask_to_classes``) or refuse the file.
    mode: Literal["auto", "binary", "index"] = "auto"
    threshold: float = 127.0


#: In ``auto`` mode, integer masks whose values all lie below this are class ids.
MAX_AUTO_CLASSES = 32


def mask_to_classes(arr: np.ndarray, mode: str, threshold: float, path: Path) -> np.ndarray:
    """(H, W) uint8 class indices from a mask image.

    ``auto`` understands: bool masks; two values 0 and one other (0/1, 0/255, 0/65535)
    -> nonzero is class 1; small integers (all < 32) -> class ids as stored; soft float
    masks with values in [0, 1] -> ``>= 0.5``. Anything else (anti-aliased 8-bit masks,
    [-1, 1] floats, stray values) is refused with the values found: choose ``binary``
    (with a threshold) or ``index`` explicitly.
    """
    if mode == "auto":
        return _auto_mask(arr, path)
    if mode == "binary":
        return (arr > threshold).astype(np.uint8)
    if arr.dtype.kind == "f" and not np.all(np.mod(arr, 1) == 0):
        raise BadFileError(path, "mask holds fractional values; use mask mode 'binary' with a threshold")
    if arr.min() < 0 or arr.max() > 255:
        raise BadFileError(path, f"mask class ids must be in 0..255, found {arr.min()}..{arr.max()}")
    return arr.astype(np.uint8)


def _auto_mask(arr: np.ndarray, path: Path) -> np.ndarray:
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8)
    if arr.dtype == np.uint8:
        values = np.flatnonzero(np.bincount(arr.ravel(), minlength=256))
    else:
        values = np.unique(arr)
    integral = arr.dtype.kind in "ui" or bool(np.all(np.mod(values, 1) == 0))
    if integral and len(values) <= 2 and values[0] == 0:
        return (arr != 0).astype(np.uint8)
    if integral and values[0] >= 0 and values[-1] < MAX_AUTO_CLASSES:
        return arr.astype(np.uint8)
    if not integral and values[0] >= 0 and values[-1] <= 1:
        return (arr >= 0.5).astype(np.uint8)
    raise BadFileError(
        path,
        f"mask values {_describe_values(values)} are not a mask encoding mask_mode=auto understands "
        f"(bool, 0/1, 0/255, class ids 0..{MAX_AUTO_CLASSES - 1}, soft masks in [0, 1]); "
        "set mask_mode=binary with mask_threshold, or mask_mode=index",
    )


def _describe_values(values: np.ndarray) -> str:
    if len(values) <= 6:
        return "{" + ", ".join(f"{v:g}" for v in values.tolist()) + "}"
    return f"({len(values)} distinct, {values[0]:g}..{values[-1]:g})"


class PairedDataset(FileDataset):
    """Input folder + partner folders; subclasses say which partners and how to load them."""

    Config = PairedConfig

    def partner_dirs(self) -> list[str]:
        """Sub-folders paired with ``image_dir`` (order = ``Entry.extra`` order)."""
        raise NotImplementedError

    def _index_folder(self, name: str) -> dict[str, str]:
        folder = self.root / name
        if not folder.is_dir():
            present = sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []
            raise DataError(
                f"{self.dataset_name}: folder {str(folder)!r} not found "
                f"(sub-folders of root: {', '.join(present) or 'none'})"
            )
        out: dict[str, str] = {}
        for rel in self._list(folder):
            stem = os.path.splitext(rel)[0]
            if stem in out:
                raise DataError(f"{self.dataset_name}: {folder}: two files share the name {stem!r}")
            out[stem] = f"{name}/{rel}"
        return out

    def _scan(self) -> list[Entry]:
        if self.root.is_file():
            raise DataError(f"{self.dataset_name}: data.root {str(self.root)!r} is a file; point it at a folder")
        images = self._index_folder(self.config.image_dir)
        partners = [self._index_folder(d) for d in self.partner_dirs()]
        entries: list[Entry] = []
        missing: list[tuple[str, str]] = []
        for stem, path in images.items():
            extra = []
            for folder, table in zip(self.partner_dirs(), partners):
                if stem in table:
                    extra.append(table[stem])
                else:
                    missing.append((str(self.root / path), f"no partner in {folder}/"))
            if len(extra) == len(partners):
                entries.append(Entry(stem, path, None, alias=os.path.basename(stem), extra=tuple(extra)))
        if missing:
            if self.config.on_error == "raise":
                file, reason = missing[0]
                raise BadFileError(file, f"{reason} ({len(missing)} unpaired inputs in total; on_error=skip drops them)")
            for file, reason in missing:
                self._log.add(file, reason)
        return entries

    # ------------------------------------------------------------------ loading helpers

    def _read(self, rel: str, *, allow_constant: bool = False) -> np.ndarray:
        path = self.root / rel
        arr = read_image(path, check=False, nan=self.config.nan)
        check_pixels(arr, path, allow_constant=allow_constant)
        return as_2d(arr, path)

    def _read_raw(self, entry: Entry) -> np.ndarray:
        return self._read(entry.path)

    def _same_size(self, ref: np.ndarray, other: np.ndarray, rel: str, ref_rel: str) -> None:
        if other.shape != ref.shape:
            raise BadFileError(
                self.root / rel, f"size {other.shape[1]}x{other.shape[0]} differs from its input {ref_rel} "
                f"({ref.shape[1]}x{ref.shape[0]})"
            )

    def _image(self, entry: Entry) -> tuple[np.ndarray, np.ndarray]:
        raw = self._read(entry.path)
        return raw, self.normalizer(raw)

    def _target(self, entry: Entry, rel: str, raw_image: np.ndarray) -> np.ndarray:
        """A restoration target: read, size-checked, normalised like the input (may be blank)."""
        arr = self._read(rel, allow_constant=True)
        self._same_size(raw_image, arr, rel, entry.path)
        return self.normalizer(arr)

    def _mask(self, entry: Entry, rel: str, raw_image: np.ndarray, opts: MaskOptions) -> np.ndarray:
        path = self.root / rel
        arr = self._read(rel, allow_constant=True)
        self._same_size(raw_image, arr, rel, entry.path)
        return mask_to_classes(arr, opts.mode, opts.threshold, path)

    def _pack(self, entry: Entry, image: np.ndarray, target: Optional[np.ndarray] = None,
              mask: Optional[np.ndarray] = None) -> Sample:
        size = self.config.size
        sample: Sample = {"image": self._to_tensor(fit(image, size)), "source": entry.key}
        if target is not None:
            sample["target"] = self._to_tensor(fit(target, size))
        if mask is not None:
            sample["mask"] = self._to_tensor(fit(mask, size))
        return sample
