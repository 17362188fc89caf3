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

import errno
import functools
import os
import warnings
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from emkit.data.formats import (  # noqa: F401 - the format table, re-exported for readers' users
    EM_EXTENSIONS,
    HDF5_EXTENSIONS,
    HDF5_IMAGE_KEYS,
    IMAGE_EXTENSIONS,
    MRC_EXTENSIONS,
    PIL_EXTENSIONS,
    TIFF_EXTENSIONS,
    BadFileError,
    check_table,
    display_path,
    rsciio_reader,
    sniff_format,
)
from emkit.errors import DataError

#: Largest image (pixels of one 2-D plane) a compressed format may claim before it is
#: refused as a decompression bomb or a corrupt header (about 32768 x 32768).
PIXEL_LIMIT = 1 << 30

#: How ``read_image`` treats NaN/Inf pixels: refuse the file, or fill them with the median.
NAN_POLICIES = ("error", "fill")


# --------------------------------------------------------------------------- one reader per family


def reader_boundary(what: str) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    """Turn any exception a format library raises inside a reader into ``BadFileError``.

    Readers catch the failures they know and word them; this is the net for everything
    else (``zlib.error`` from a truncated compressed TIFF, ``MemoryError`` from a header
    claiming a huge image, a library's own exception types), so no bad file escapes a
    reader as anything but one ``DataError`` naming the file.
    """

    def wrap(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        @functools.wraps(fn)
        def read(path: str | os.PathLike[str], *args: Any, **kwargs: Any) -> np.ndarray:
            try:
                return fn(path, *args, **kwargs)
            except BadFileError:
                raise
            except MemoryError:
                raise BadFileError(path, f"{what} too large to read into memory") from None
            except Exception as exc:  # noqa: BLE001 - the reader boundary: every failure is a bad file
                raise BadFileError(path, f"corrupt or unreadable {what} ({_why(exc)})") from None

        return read

    return wrap



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


@reader_boundary("TIFF")
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
            if int(page.compression) != 1 and int(page.imagewidth) * int(page.imagelength) > PIXEL_LIMIT:
                raise BadFileError(p, _bomb_reason((int(page.imagewidth), int(page.imagelength))))
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


@reader_boundary("image")
def read_pil(path: str | os.PathLike[str], index: Optional[int] = None) -> np.ndarray:
    """PNG / JPEG / BMP via Pillow, as a 2-D array (colour converted to grayscale).

    8-bit stays uint8, 16-bit PNG becomes uint16, 32-bit float stays float32.
    """
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    Image.MAX_IMAGE_PIXELS = PIXEL_LIMIT  # explicit: our own check below words the refusal
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(p)
    except Image.DecompressionBombError as exc:
        raise BadFileError(p, _bomb_reason(None, str(exc))) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        what = "truncated or corrupt image" if not isinstance(exc, UnidentifiedImageError) else "not an image"
        raise BadFileError(p, f"{what} ({_why(exc)})") from None
    if img.width * img.height > PIXEL_LIMIT:
        img.close()
        raise BadFileError(p, _bomb_reason((img.width, img.height)))
    try:
        with img:
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
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise BadFileError(p, f"truncated or corrupt image ({_why(exc)})") from None


def _bomb_reason(size: Optional[tuple[int, int]], detail: str = "") -> str:
    claims = f"claims {size[0]}x{size[1]} = {size[0] * size[1]} pixels" if size else "claims too many pixels"
    detail = f"; {detail.split(' could be')[0]}" if detail else ""
    return (f"image header {claims}, above the limit of {PIXEL_LIMIT} "
            f"(a decompression bomb or a corrupt header{detail})")


@reader_boundary("HDF5")
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


@reader_boundary("MRC")
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


@reader_boundary("EM file")
def read_em(path: str | os.PathLike[str], index: Optional[int] = None) -> np.ndarray:
    """DM3 / DM4 (Gatan), EMD (Velox, Berkeley) and SER (TIA) via rosettasciio (optional extra).

    The first image signal in the file is used (spectra and tables are skipped). Rows are
    the image's y axis: rosettasciio returns an array in the order of its named axes (a
    Berkeley EMD stored y-first comes back x-first), so axes named ``y`` and ``x`` are
    moved last, in that order; stacks keep their other axes first.
    """
    p = Path(path)
    ext = p.suffix.lower()
    reader = rsciio_reader(p)
    try:
        signals = reader(str(p), lazy=False)
    except Exception as exc:  # noqa: BLE001 - rosettasciio raises many types for bad files
        raise BadFileError(p, f"corrupt or unreadable {ext[1:].upper() or 'EM'} file ({_why(exc)})") from None
    for sig in signals:
        data = np.asarray(sig.get("data"))
        if data.ndim >= 2 and data.dtype.kind in "uif":
            return _select(_rows_along_y(data, sig.get("axes")), index, p)
    raise BadFileError(p, "file holds no 2-D image signal")


def _rows_along_y(data: np.ndarray, axes: Any) -> np.ndarray:
    """``data`` with its axes named ``y`` and ``x`` moved last, in that order (others keep theirs)."""
    names = [str(ax.get("name", "")).lower() for ax in axes or [] if isinstance(ax, dict)]
    if len(names) != data.ndim or "x" not in names or "y" not in names:
        return data
    order = [i for i, n in enumerate(names) if n not in ("x", "y")] + [names.index("y"), names.index("x")]
    return data if order == sorted(order) else np.ascontiguousarray(np.transpose(data, order))


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    if name[:1].islower():  # zlib.error, struct.error: the module says what failed
        name = f"{type(exc).__module__}.{name}"
    return f"{name}: {text}" if text else name


READERS: dict[str, Callable[..., np.ndarray]] = check_table({
    "tiff": read_tiff,
    "pil": read_pil,
    "hdf5": read_hdf5,
    "mrc": read_mrc,
    "em": read_em,
}, "readers")


# --------------------------------------------------------------------------- dispatch + checks


def read_image(
    path: str | os.PathLike[str],
    index: Optional[int] = None,
    *,
    key: Optional[str] = None,
    check: bool = True,
    mmap: bool = True,
    nan: str = "error",
) -> np.ndarray:
    """Read ``path`` with the reader its content calls for; validate the pixels when ``check``.

    ``index``: one slice of a stack; ``key``: HDF5 dataset name; ``nan``: "error" refuses
    NaN/Inf pixels, "fill" replaces them with the image's median (with a warning saying
    how many). Raises ``BadFileError`` (a ``DataError``) naming the file and the problem.
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
    if nan == "fill":
        arr = fill_nonfinite(arr, p)
    if check:
        check_pixels(arr, p)
    return arr


def fill_nonfinite(arr: np.ndarray, path: str | os.PathLike[str], *, warn: bool = True) -> np.ndarray:
    """``arr`` with NaN/Inf pixels replaced by the median of the finite ones (a copy if any).

    Warns (``NonFiniteFilled``) with the file and the count; an image without a single
    finite pixel is a ``BadFileError``.
    """
    if arr.dtype.kind != "f":
        return arr
    finite = np.isfinite(arr)
    bad = int(arr.size - np.count_nonzero(finite))
    if not bad:
        return arr
    if bad == arr.size:
        raise BadFileError(path, f"every pixel is NaN/Inf ({bad} values); nothing to fill from")
    median = float(np.median(arr[finite]))
    out = np.where(finite, arr, arr.dtype.type(median))
    if warn:
        warnings.warn(NonFiniteFilled(path, bad, median), stacklevel=2)
    return out


class NonFiniteFilled(UserWarning):
    """NaN/Inf pixels of a file were replaced by its median (``nan=fill``)."""

    def __init__(self, path: str | os.PathLike[str], count: int, median: float) -> None:
        self.path, self.count, self.median = display_path(path), count, median
        super().__init__(f"{self.path}: replaced {count} NaN/Inf pixel values with the image median {median:.6g}")


def nonfinite_reason(arr: np.ndarray) -> Optional[str]:
    """"N NaN/Inf pixel values ..." when ``arr`` holds any (floats only), else None."""
    if arr.dtype.kind != "f":
        return None
    finite = np.isfinite(arr)
    if finite.all():
        return None
    bad = int(arr.size - np.count_nonzero(finite))
    if bad == arr.size:
        return f"every pixel is NaN/Inf ({bad} values)"
    kind = "NaN" if np.isnan(arr).any() else "Inf"
    return f"{bad} {kind}/non-finite pixel values (nan=fill replaces them with the image median)"


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
    reason = nonfinite_reason(arr)
    if reason:
        raise BadFileError(path, reason)
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


def list_images(
    root: str | os.PathLike[str],
    extensions: Optional[frozenset[str]] = None,
    *,
    on_problem: Optional[Callable[[BadFileError], None]] = None,
) -> list[str]:
    """Relative POSIX paths of all image files under ``root`` (recursive, sorted, hidden skipped).

    Symbolic links are followed, but a link that loops (to itself, or to a folder already
    being listed) is a ``BadFileError`` naming it: raised, or passed to ``on_problem``
    (which may raise, or record it and let the listing go on).
    """
    base = Path(root)
    if not base.is_dir():
        raise DataError(f"{display_path(base)}: not a directory" if base.exists()
                        else f"{display_path(base)}: directory not found")
    exts = extensions or IMAGE_EXTENSIONS

    def problem(exc: BadFileError) -> None:
        if on_problem is None:
            raise exc
        on_problem(exc)

    found: list[str] = []
    stack = [("", _dir_id(base))]
    while stack:
        rel, ancestors = stack.pop()
        folder = base / rel if rel else base
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            raise DataError(f"{display_path(folder)}: cannot list directory ({exc.strerror or exc})") from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            sub = f"{rel}/{entry.name}" if rel else entry.name
            kind = _entry_kind(entry, ancestors, problem)
            if kind == "dir":
                stack.append((sub, ancestors | _dir_id(entry.path)))
            elif kind == "file" and os.path.splitext(entry.name)[1].lower() in exts:
                found.append(sub)
    found.sort()
    return found


def _dir_id(path: str | os.PathLike[str]) -> frozenset[tuple[int, int]]:
    st = os.stat(path)
    return frozenset({(st.st_dev, st.st_ino)})


def _entry_kind(entry: os.DirEntry, ancestors: frozenset[tuple[int, int]],
                problem: Callable[[BadFileError], None]) -> str:
    """"dir", "file" or "skip" for one directory entry; loops go to ``problem``."""
    try:
        if not entry.is_dir(follow_symlinks=True):
            if entry.is_symlink() and not os.path.exists(entry.path):
                os.stat(entry.path)  # raises: dangling or looping link (reported below)
            return "file"
        if entry.is_symlink():
            st = os.stat(entry.path)
            if (st.st_dev, st.st_ino) in ancestors:
                problem(BadFileError(entry.path, "symbolic link loop (points back to a folder above it); skipped"))
                return "skip"
        return "dir"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            problem(BadFileError(entry.path, "symbolic link loop (the link resolves to itself)"))
        elif isinstance(exc, FileNotFoundError):
            return "file"  # a dangling link: the reader reports it if its extension is wanted
        else:
            problem(BadFileError(entry.path, f"cannot inspect ({exc.strerror or exc})"))
        return "skip"
