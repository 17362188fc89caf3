"""napari reader: EM files read by emkit's own readers, with the pixel size as layer scale.

``get_reader(path)`` answers napari's question "can you read this?" by extension (the
manifest's patterns: ``emkit.EM_SUFFIXES``, emkit's formats minus PNG/JPEG, which napari
reads itself) and returns ``read_layers``. Pixels and pixel size come from
``emkit.read_image`` (content sniffing, memory-mapped TIFF/MRC, HDF5 default keys,
DM/EMD/SER via the ``em-formats`` extra; TIFF tags, MRC voxel size, HDF5 attributes,
DM/EMD axes, in nanometres). A file emkit cannot read raises its one-line ``BadFileError``, which napari
shows as a notification.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np

import emkit

#: Extensions this reader claims: every emkit family except the plain image formats.
EXTENSIONS = frozenset(emkit.EM_SUFFIXES)

LayerData = tuple[Any, dict[str, Any], str]
PathLike = Union[str, os.PathLike]


def get_reader(path: Union[PathLike, list[PathLike]]) -> Optional[Callable[..., list[LayerData]]]:
    """``read_layers`` when every path has an extension emkit reads, else None."""
    paths = path if isinstance(path, list) else [path]
    if not paths or any(Path(p).suffix.lower() not in EXTENSIONS for p in paths):
        return None
    return read_layers


def read_layers(path: Union[PathLike, list[PathLike]]) -> list[LayerData]:
    """One image layer per file: ``(data, {name, scale, units, metadata}, "image")``."""
    paths = path if isinstance(path, list) else [path]
    return [read_file(Path(p)) for p in paths]


def read_file(path: Path) -> LayerData:
    """Pixels as stored (a stack stays a stack; 4-D HDF5 ``NCHW`` gets a channel axis)."""
    image = emkit.read_image(path, check=False)
    data, meta = image.array, image
    kwargs: dict[str, Any] = {
        "name": path.stem,
        "metadata": {"emkit_source": str(path), "emkit_format": image.format,
                     "pixel_size_nm": meta.pixel_size_nm, "description": meta.description},
    }
    if data.ndim == 4:
        kwargs["channel_axis"] = 1
    spatial = data.ndim - (1 if data.ndim == 4 else 0)
    if meta.pixel_size_nm is not None:
        kwargs["scale"] = (1.0,) * (spatial - 2) + tuple(meta.pixel_size_nm)
        kwargs["units"] = ("pixel",) * (spatial - 2) + ("nm", "nm")
    return np.asarray(data) if not isinstance(data, np.memmap) else data, kwargs, "image"
