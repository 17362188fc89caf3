"""Read EM image files into numpy arrays: one function per format family.

``read_image`` picks the reader from the file's first bytes (magic numbers), falling back
to the extension, so a mis-named file is still read correctly and a non-image file gets a
clear error instead of a decoder traceback. Every failure -- empty file, truncated data,
unknown format, NaN/Inf, a constant image, a wrong rank -- is one ``BadFileError`` (a
``DataError``) whose message names the file and the problem; datasets catch it to skip a
file under ``on_error=skip`` and report the reason.

Arrays come back as stored (uint8/uint16/float32 ...), shaped ``(H, W)`` for one image,
``(N, H, W)`` for a stack and ``(N, C, H, W)`` for 4-D HDF5 datasets. ``index`` selects one
slice of a stack without reading the others (TIFF page, HDF5 row, MRC section).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from emkit.errors import DataError

#: Extensions each family claims (used when the content has no recognisable magic).
TIFF_EXTENSIONS = frozenset({".tif", ".tiff", ".btf", ".tf8"})
PIL_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"})
HDF5_EXTENSIONS = frozenset({".h5", ".hdf5", ".hdf", ".he5"})
MRC_EXTENSIONS = frozenset({".mrc", ".mrcs", ".map", ".st", ".ali", ".rec"})
EM_EXTENSIONS = frozenset({".dm3", ".dm4", ".emd", ".ser"})
IMAGE_EXTENSIONS = TIFF_EXTENSIONS | PIL_EXTENSIONS | HDF5_EXTENSIONS | MRC_EXTENSIONS | EM_EXTENSIONS

#: HDF5 dataset names tried, in order, when no key is given.
HDF5_IMAGE_KEYS = ("images", "image", "data", "raw")

EM_EXTRA_HINT = "pip install 'emkit[em-formats]'"


class BadFileError(DataError):
    """One input file cannot be used; ``path`` and ``reason`` are kept for problem reports."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


# --------------------------------------------------------------------------- detection


def sniff_format(path: str | os.PathLike[str], head: Optional[bytes] = None) -> str:
    """Format family of ``path``: "tiff", "pil", "hdf5", "mrc", "em" (or raise ``BadFileError``).

    Content wins over the extension; the extension decides only where the first bytes
    carry no signature (MRC before 2014, for instance).
    """
    p = Path(path)
    ext = p.suffix.lower()
    if head is None:
        try:
            size = p.stat().st_size
        except FileNotFoundError:
            raise BadFileError(p, "file not found") from None
        except OSError as exc:
            raise BadFileError(p, f"cannot stat file ({exc.strerror or exc})") from None
        if size == 0:
            raise BadFileError(p, "empty file (0 bytes)")
        try:
            with open(p, "rb") as fh:
                head = fh.read(1024)
        except OSError as exc:
            raise BadFileError(p, f"cannot open file ({exc.strerror or exc})") from None
    if not head:
        raise BadFileError(p, "empty file (0 bytes)")
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:8] == b"\x89PNG\r\n\x1a\n" or head[:3] == b"\xff\xd8\xff" or head[:2] == b"BM":
        return "pil"
    if head[:6] in (b"GIF87a", b"GIF89a") or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "pil"
    if head[:8] == b"\x89HDF\r\n\x1a\n":
        # Velox / Berkeley EMD files are HDF5 too; their own reader understands the layout.
        return "em" if ext == ".emd" else "hdf5"
    if head[:4] == b"II\x97\x01":  # TIA .ser series
        return "em"
    if head[:4] in (b"\x00\x00\x00\x03", b"\x00\x00\x00\x04") and ext in (".dm3", ".dm4"):
        return "em"
    if len(head) >= 212 and head[208:212] == b"MAP ":
        return "mrc"
    if ext in TIFF_EXTENSIONS:
        return "tiff"
    if ext in PIL_EXTENSIONS:
        return "pil"
    if ext in HDF5_EXTENSIONS:
        return "hdf5"
    if ext in MRC_EXTENSIONS:
        return "mrc"
    if ext in EM_EXTENSIONS:
        return "em"
    raise BadFileError(
        p, f"not a supported image file (unrecognised content; readable: {', '.join(sorted(IMAGE_EXTENSIONS))})"
    )


# --------------------------------------------------------------------------- one reader per family


def _select(arr: Any, index: Optional[int], path: Path) -> np.ndarray:
    """``arr[index]`` for a stack (``index`` None: all of it), with a clear out-of-range error."""
    if index is None:
        return np.asarray(arr)
    if arr.ndim < 3:
        if index == 0:
            return np.asarray(arr)
        raise BadFileError(path, f"slice {index} requested but the file holds a single 2-D image")
    if not -arr.shape[0] <= index < arr.shape[0]:
        raise BadFileError(path, f"slice {index} out of range (the file holds {arr.shape[0]})")
    return np.asarray(arr[index])


def _rgb_to_gray(arr: np.ndarray) -> np.ndarray:
    """Luma of an (..., H, W, 3|4) array, in the input's dtype."""
    rgb = arr[..., :3].astype(np.float32)
    gray = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    if np.issubdtype(arr.dtype, np.integer):
        gray = np.rint(gray).astype(arr.dtype)
    return gray


def read_tiff(path: str | os.PathLike[str], index: Optional[int] = None, *, mmap: bool = True) -> np.ndarray:
    """TIFF / BigTIFF via tifffile: 8/16-bit, float32, multi-page stacks.

    Uncompressed, contiguous data is memory-mapped when large (no copy until the pixels
    are touched) and read with one ``read`` call when small; compressed or tiled files go
    through tifffile's decoder. ``index`` reads one page only. RGB pages become grayscale.
    """
    import tifffile

    p = Path(path)
    try:
        with tifffile.TiffFile(p) as tif:
            npages = len(tif.pages)
            if npages == 0:
                raise BadFileError(p, "TIFF holds no image pages")
            if index is not None and not -npages <= index < npages:
                raise BadFileError(p, f"slice {index} out of range (the file holds {npages})")
            page = tif.pages[index if index is not None else 0]
            rgb = getattr(page, "samplesperpixel", 1) in (3, 4) and int(page.photometric) in (2, 6)
            arr = _tiff_direct(tif, index) if mmap and not rgb else None
            if arr is None:
                arr = page.asarray() if index is not None or npages == 1 else tif.asarray()
            if rgb:
                if int(getattr(page, "planarconfig", 1)) == 2:  # separate planes: (..., S, H, W)
                    arr = np.moveaxis(arr, -3, -1)
                arr = _rgb_to_gray(arr)
            while arr.ndim > 2 and arr.shape[0] == 1:
                arr = arr[0]
            return arr
    except BadFileError:
        raise
    except (tifffile.TiffFileError, ValueError, OSError, IndexError, KeyError, EOFError, RuntimeError) as exc:
        raise BadFileError(p, f"corrupt or truncated TIFF ({_why(exc)})") from None


#: Below this many bytes one ``read`` beats setting up a memory map.
_MMAP_MIN_BYTES = 1 << 20


def _tiff_direct(tif: Any, index: Optional[int]) -> Optional[np.ndarray]:
    """Uncompressed contiguous pixels without the decoder: a read or a memory map.

    Returns None when the data is compressed, tiled or not contiguous (the caller then
    decodes). Raises ``BadFileError`` when the pixel data runs past the end of the file.
    """
    if index is not None:
        page = tif.pages[index]
        if not page.is_contiguous or page.is_tiled or not page.dataoffsets:
            return None
        offset = page.dataoffsets[0]
        shape, dtype = page.shape, page.dtype
    else:
        series = tif.series[0]
        offset = series.dataoffset
        shape, dtype = series.shape, series.dtype
    if offset is None or dtype is None:
        return None
    dtype = np.dtype(dtype).newbyteorder(tif.byteorder)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    fh = tif.filehandle
    if offset + nbytes > fh.size:
        raise BadFileError(fh.path, f"truncated TIFF (pixel data needs {offset + nbytes} bytes, file has {fh.size})")
    if nbytes < _MMAP_MIN_BYTES:
        fh.seek(offset)
        arr = np.frombuffer(fh.read(nbytes), dtype=dtype).reshape(shape)
    else:
        arr = np.memmap(fh.path, dtype=dtype, mode="r", offset=offset, shape=tuple(shape))
    return arr if dtype.isnative else arr.astype(dtype.newbyteorder("="))


def read_pil(path: str | os.PathLike[str], index: Optional[int] = None) -> np.ndarray:
    """PNG / JPEG / BMP via Pillow, as a 2-D array (colour converted to grayscale).

    8-bit stays uint8, 16-bit PNG becomes uint16, 32-bit float stays float32.
    """
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    try:
        with Image.open(p) as img:
            if index:
                img.seek(index)
            img.load()
            mode = img.mode
            if mode in ("L", "I;16", "I;16B", "I;16L", "F"):
                arr = np.asarray(img)
            elif mode == "I":
                arr = np.asarray(img)
                if arr.size and arr.min() >= 0 and arr.max() <= 65535:
                    arr = arr.astype(np.uint16)
            elif mode == "1":
                arr = np.asarray(img.convert("L"))
            else:  # RGB, RGBA, P, LA, CMYK, YCbCr ...
                arr = np.asarray(img.convert("L"))
            if arr.dtype.byteorder == ">":
                arr = arr.astype(arr.dtype.newbyteorder("="))
            return arr
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        what = "truncated or corrupt image" if not isinstance(exc, UnidentifiedImageError) else "not an image"
        raise BadFileError(p, f"{what} ({_why(exc)})") from None


def read_hdf5(
    path: str | os.PathLike[str], index: Optional[int] = None, *, key: Optional[str] = None
) -> np.ndarray:
    """A named dataset of an HDF5 file via h5py (``NHW``, ``NCHW`` or a single ``HW`` image).

    Without ``key`` the first of ``images``, ``image``, ``data``, ``raw`` present is used,
    else the only dataset with two or more dimensions.
    """
    import h5py

    p = Path(path)
    try:
        with h5py.File(p, "r") as fh:
            name = key or _default_hdf5_key(fh, p)
            if name not in fh or not isinstance(fh[name], h5py.Dataset):
                names = ", ".join(_hdf5_datasets(fh)) or "none"
                raise BadFileError(p, f"no dataset {name!r} in HDF5 file (datasets: {names})")
            ds = fh[name]
            return _select(ds, index, p)
    except BadFileError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadFileError(p, f"corrupt or truncated HDF5 ({_why(exc)})") from None


def _hdf5_datasets(fh: Any) -> list[str]:
    import h5py

    names: list[str] = []
    fh.visititems(lambda n, obj: names.append(n) if isinstance(obj, h5py.Dataset) else None)
    return names


def _default_hdf5_key(fh: Any, path: Path) -> str:
    for name in HDF5_IMAGE_KEYS:
        if name in fh:
            return name
    candidates = [n for n in _hdf5_datasets(fh) if len(fh[n].shape) >= 2]
    if len(candidates) == 1:
        return candidates[0]
    listed = ", ".join(candidates) or "none with 2+ dimensions"
    raise BadFileError(path, f"cannot tell which HDF5 dataset holds the images ({listed}); name it with a key")


def read_mrc(path: str | os.PathLike[str], index: Optional[int] = None) -> np.ndarray:
    """MRC / MRCS / REC via mrcfile, memory-mapped; ``index`` picks one section of a stack."""
    import mrcfile

    p = Path(path)
    try:
        with mrcfile.mmap(p, mode="r", permissive=False) as mrc:
            data = mrc.data
            if data is None:
                raise BadFileError(p, "MRC file holds no data")
            out = _select(data, index, p)
            return np.array(out)  # copy: the map closes with the file
    except BadFileError:
        raise
    except (ValueError, OSError, EOFError, TypeError) as exc:
        raise BadFileError(p, f"corrupt or truncated MRC ({_why(exc)})") from None


def read_em(path: str | os.PathLike[str], index: Optional[int] = None) -> np.ndarray:
    """DM3 / DM4 (Gatan), EMD (Velox, Berkeley) and SER (TIA) via rosettasciio (optional extra).

    The first image signal in the file is used (spectra and tables are skipped).
    """
    p = Path(path)
    ext = p.suffix.lower()
    reader = _em_reader(ext, p)
    try:
        signals = reader(str(p), lazy=False)
    except Exception as exc:  # noqa: BLE001 - rosettasciio raises many types for bad files
        raise BadFileError(p, f"corrupt or unreadable {ext[1:].upper() or 'EM'} file ({_why(exc)})") from None
    for sig in signals:
        data = np.asarray(sig.get("data"))
        if data.ndim >= 2 and data.dtype.kind in "uif":
            return _select(data, index, p)
    raise BadFileError(p, "file holds no 2-D image signal")


def _em_reader(ext: str, path: Path) -> Callable[..., list[dict[str, Any]]]:
    modules = {".dm3": "digitalmicrograph", ".dm4": "digitalmicrograph", ".emd": "emd", ".ser": "tia"}
    sub = modules.get(ext, "digitalmicrograph")
    try:
        mod = __import__(f"rsciio.{sub}", fromlist=["file_reader"])
    except ImportError:
        raise BadFileError(
            path,
            f"reading {ext or 'this'} files needs the optional extra 'em-formats' (rosettasciio): "
            f"{EM_EXTRA_HINT}",
        ) from None
    return mod.file_reader


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


READERS: dict[str, Callable[..., np.ndarray]] = {
    "tiff": read_tiff,
    "pil": read_pil,
    "hdf5": read_hdf5,
    "mrc": read_mrc,
    "em": read_em,
}


# --------------------------------------------------------------------------- dispatch + checks


def read_image(
    path: str | os.PathLike[str],
    index: Optional[int] = None,
    *,
    key: Optional[str] = None,
    check: bool = True,
    mmap: bool = True,
) -> np.ndarray:
    """Read ``path`` with the reader its content calls for; validate the pixels when ``check``.

    ``index``: one slice of a stack; ``key``: HDF5 dataset name. Raises ``BadFileError``
    (a ``DataError``) naming the file and the problem.
    """
    p = Path(path)
    family = sniff_format(p)
    reader = READERS[family]
    if family == "hdf5":
        arr = reader(p, index, key=key)
    elif family == "tiff":
        arr = reader(p, index, mmap=mmap)
    else:
        arr = reader(p, index)
    if check:
        check_pixels(arr, p)
    return arr


def check_pixels(arr: np.ndarray, path: str | os.PathLike[str], *, allow_constant: bool = False) -> None:
    """Reject arrays no model should train on: wrong rank or dtype, NaN/Inf, constant.

    ``allow_constant`` is for targets and masks, where a blank image can be legitimate.
    """
    if arr.ndim < 2 or arr.ndim > 4:
        raise BadFileError(path, f"wrong rank: expected a 2-D image or a stack, got shape {tuple(arr.shape)}")
    if min(arr.shape) == 0:
        raise BadFileError(path, f"empty image (shape {tuple(arr.shape)})")
    if arr.dtype.kind not in "uif" and arr.dtype != np.bool_:
        raise BadFileError(path, f"unsupported pixel type {arr.dtype} (expected integers or floats)")
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if not finite.all():
            bad = int(arr.size - np.count_nonzero(finite))
            kind = "NaN" if np.isnan(arr).any() else "Inf"
            raise BadFileError(path, f"{bad} {kind}/non-finite pixel values")
    if allow_constant:
        return
    lo, hi = arr.min(), arr.max()
    if lo == hi:
        raise BadFileError(path, f"constant image (every pixel is {lo.item()!r})")


def as_2d(arr: np.ndarray, path: str | os.PathLike[str]) -> np.ndarray:
    """Squeeze singleton axes; raise ``BadFileError`` unless a single ``(H, W)`` image remains."""
    out = arr
    while out.ndim > 2 and out.shape[0] == 1:
        out = out[0]
    if out.ndim != 2:
        raise BadFileError(path, f"wrong rank: expected one 2-D image, got shape {tuple(arr.shape)}")
    return out


def count_slices(path: str | os.PathLike[str], *, key: Optional[str] = None) -> int:
    """Number of 2-D images in ``path`` (1 for a plain image) without reading the pixels."""
    p = Path(path)
    family = sniff_format(p)
    try:
        if family == "tiff":
            import tifffile

            with tifffile.TiffFile(p) as tif:
                series = tif.series[0]
                shape = series.shape
                if getattr(tif.pages[0], "samplesperpixel", 1) in (3, 4):
                    shape = shape[:-1]
                return int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        if family == "hdf5":
            import h5py

            with h5py.File(p, "r") as fh:
                ds = fh[key or _default_hdf5_key(fh, p)]
                return int(ds.shape[0]) if ds.ndim >= 3 else 1
        if family == "mrc":
            import mrcfile

            with mrcfile.mmap(p, mode="r", permissive=False) as mrc:
                return int(mrc.data.shape[0]) if mrc.data.ndim == 3 else 1
    except BadFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - a header that cannot be parsed is a bad file
        raise BadFileError(p, f"cannot read header ({_why(exc)})") from None
    return 1


def list_images(root: str | os.PathLike[str], extensions: Optional[frozenset[str]] = None) -> list[str]:
    """Relative POSIX paths of all image files under ``root`` (recursive, sorted, hidden skipped)."""
    base = Path(root)
    if not base.is_dir():
        raise DataError(f"{base}: not a directory" if base.exists() else f"{base}: directory not found")
    exts = extensions or IMAGE_EXTENSIONS
    found: list[str] = []
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            entries = list(os.scandir(base / rel if rel else base))
        except OSError as exc:
            raise DataError(f"{base / rel}: cannot list directory ({exc.strerror or exc})") from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            sub = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_dir(follow_symlinks=True):
                stack.append(sub)
            elif os.path.splitext(entry.name)[1].lower() in exts:
                found.append(sub)
    found.sort()
    return found
