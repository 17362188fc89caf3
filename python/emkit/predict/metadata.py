"""Pixel size and descriptive metadata of an input file, and how they go into a TIFF.

Read where the format has them: TIFF resolution tags (+ the ImageJ unit, + our own
JSON description), MRC voxel size (Å), DM/EMD/SER axes (rosettasciio, when
installed), HDF5 ``element_size_um`` / ``pixel_size`` attributes, PNG DPI. Pixel sizes
are kept in nanometres. Output TIFFs get resolution tags in pixels per centimetre
(which every reader, ImageJ included, understands) plus a JSON description with
``pixel_size`` (y, x), ``unit`` and where the image came from.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

from emkit.data.formats import HDF5_IMAGE_KEYS, check_table, rsciio_reader

#: Length units → nanometres.
_UNITS_NM = {
    "nm": 1.0, "nanometer": 1.0, "nanometre": 1.0,
    "um": 1e3, "µm": 1e3, "μm": 1e3, "\\u00b5m": 1e3, "micron": 1e3, "microns": 1e3, "micrometer": 1e3,
    "mm": 1e6, "millimeter": 1e6, "cm": 1e7, "centimeter": 1e7, "m": 1e9, "meter": 1e9,
    "inch": 2.54e7, "in": 2.54e7, "a": 0.1, "å": 0.1, "angstrom": 0.1, "ang": 0.1, "pm": 1e-3,
}

#: Largest value a TIFF RATIONAL holds (pixels per cm).
_MAX_RATIONAL = 4.0e9


def unit_to_nm(unit: Any) -> Optional[float]:
    if not isinstance(unit, str):
        return None
    return _UNITS_NM.get(unit.strip().lower())


@dataclasses.dataclass(frozen=True)
class ImageMeta:
    """What is carried from an input file to its predictions."""

    #: (y, x) pixel size in nanometres, when the file records one.
    pixel_size_nm: Optional[tuple[float, float]] = None
    #: Free-text description from the source (TIFF ImageDescription), carried verbatim.
    description: Optional[str] = None

    def tiff_kwargs(self, extra: dict[str, Any]) -> dict[str, Any]:
        """``tifffile.imwrite`` keyword arguments: resolution tags + JSON description."""
        meta: dict[str, Any] = dict(extra)
        kwargs: dict[str, Any] = {}
        if self.pixel_size_nm is not None:
            y, x = self.pixel_size_nm
            meta["pixel_size"] = [y, x]
            meta["unit"] = "nm"
            per_cm = (1e7 / x, 1e7 / y)
            if max(per_cm) < _MAX_RATIONAL and min(per_cm) > 0:
                kwargs["resolution"] = per_cm
                kwargs["resolutionunit"] = "CENTIMETER"
        if self.description:
            meta["source_description"] = self.description[:10000]
        kwargs["metadata"] = meta
        return kwargs


def read_meta(path: Path, family: str, key: Optional[str] = None) -> ImageMeta:
    """Best effort: a file whose metadata cannot be parsed simply carries none."""
    try:
        return META_READERS[family](path, key)
    except Exception:  # noqa: BLE001 - metadata never stops a prediction
        return ImageMeta()


def _valid(y: Any, x: Any) -> Optional[tuple[float, float]]:
    try:
        fy, fx = float(y), float(x)
    except (TypeError, ValueError):
        return None
    return (fy, fx) if fy > 0 and fx > 0 else None


def _tiff(path: Path, key: Optional[str]) -> ImageMeta:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        shaped = tif.shaped_metadata[0] if tif.is_shaped and tif.shaped_metadata else None
        if shaped and "pixel_size" in shaped:
            scale = unit_to_nm(shaped.get("unit", "nm")) or 1.0
            y, x = shaped["pixel_size"]
            size = _valid(y * scale, x * scale)
            return ImageMeta(size, shaped.get("source_description"))
        description = None if (tif.is_shaped or tif.is_imagej) else (page.description or None)
        size = None
        if "XResolution" in page.tags and "YResolution" in page.tags:
            xres, yres = page.get_resolution()
            unit = int(page.resolutionunit)
            if unit == 1 and tif.is_imagej:
                factor = unit_to_nm((tif.imagej_metadata or {}).get("unit"))
            else:
                factor = {2: 2.54e7, 3: 1e7, 4: 1e6, 5: 1e3}.get(unit)
            if factor and xres > 0 and yres > 0:
                size = _valid(factor / yres, factor / xres)
        return ImageMeta(size, description)


def _mrc(path: Path, key: Optional[str]) -> ImageMeta:
    import mrcfile

    with mrcfile.open(path, mode="r", header_only=True, permissive=True) as mrc:
        vs = mrc.voxel_size
        return ImageMeta(_valid(float(vs.y) * 0.1, float(vs.x) * 0.1))


def _hdf5(path: Path, key: Optional[str]) -> ImageMeta:
    import h5py

    with h5py.File(path, "r") as fh:
        names = [key] if key else [n for n in HDF5_IMAGE_KEYS if n in fh]
        if not names:
            return ImageMeta()
        attrs = dict(fh[names[0]].attrs)
        if "element_size_um" in attrs:  # ilastik / Fiji convention: (..., y, x) in µm
            sizes = list(attrs["element_size_um"])
            return ImageMeta(_valid(sizes[-2] * 1e3, sizes[-1] * 1e3))
        if "pixel_size" in attrs:
            factor = unit_to_nm(attrs.get("unit", "nm")) or 1.0
            value = attrs["pixel_size"]
            sizes = list(value) if hasattr(value, "__len__") else [value, value]
            return ImageMeta(_valid(sizes[-2] * factor, sizes[-1] * factor))
    return ImageMeta()


def _em(path: Path, key: Optional[str]) -> ImageMeta:
    reader = rsciio_reader(path)
    for sig in reader(str(path), lazy=True):
        axes = [a for a in sig.get("axes", []) if not a.get("navigate", False)]
        if len(axes) >= 2:
            fy, fx = unit_to_nm(axes[-2].get("units")), unit_to_nm(axes[-1].get("units"))
            if fy and fx:
                return ImageMeta(_valid(axes[-2]["scale"] * fy, axes[-1]["scale"] * fx))
            return ImageMeta()
    return ImageMeta()


def _pil(path: Path, key: Optional[str]) -> ImageMeta:
    from PIL import Image

    with Image.open(path) as img:
        dpi = img.info.get("dpi")
    if dpi:
        return ImageMeta(_valid(2.54e7 / float(dpi[1]), 2.54e7 / float(dpi[0])))
    return ImageMeta()


#: Metadata reader of each format family (``emkit.data.formats``).
META_READERS = check_table({"tiff": _tiff, "mrc": _mrc, "hdf5": _hdf5, "em": _em, "pil": _pil}, "metadata")
