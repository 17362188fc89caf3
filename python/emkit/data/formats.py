"""The image format families emkit reads: one table, one content sniffer, one error type.

``data.readers`` (pixels) and ``predict.metadata`` (pixel size, description) both
dispatch on the family name ``sniff_format`` returns, through their own per-family
function tables keyed by ``FAMILIES``; the extensions, the content signatures and the
rosettasciio module of each EM format live here only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Optional

from emkit.errors import DataError

#: Extensions each family claims (used when the content has no recognisable magic).
FORMAT_EXTENSIONS: dict[str, frozenset[str]] = {
    "tiff": frozenset({".tif", ".tiff", ".btf", ".tf8"}),
    "pil": frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"}),
    "hdf5": frozenset({".h5", ".hdf5", ".hdf", ".he5"}),
    "mrc": frozenset({".mrc", ".mrcs", ".map", ".st", ".ali", ".rec"}),
    "em": frozenset({".dm3", ".dm4", ".emd", ".ser"}),
}
FAMILIES: tuple[str, ...] = tuple(FORMAT_EXTENSIONS)
TIFF_EXTENSIONS = FORMAT_EXTENSIONS["tiff"]
PIL_EXTENSIONS = FORMAT_EXTENSIONS["pil"]
HDF5_EXTENSIONS = FORMAT_EXTENSIONS["hdf5"]
MRC_EXTENSIONS = FORMAT_EXTENSIONS["mrc"]
EM_EXTENSIONS = FORMAT_EXTENSIONS["em"]
IMAGE_EXTENSIONS = frozenset().union(*FORMAT_EXTENSIONS.values())

#: rosettasciio reader module of each EM extension (the "em" family).
RSCIIO_MODULES = {".dm3": "digitalmicrograph", ".dm4": "digitalmicrograph", ".emd": "emd", ".ser": "tia"}

#: HDF5 dataset names tried, in order, when no key is given.
HDF5_IMAGE_KEYS = ("images", "image", "data", "raw")

EM_EXTRA_HINT = "pip install 'emkit[em-formats]'"


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` as printable text: undecodable name bytes shown as ``\\xNN`` escapes."""
    text = os.fsdecode(path)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class BadFileError(DataError):
    """One input file cannot be used; ``path`` and ``reason`` are kept for problem reports."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = display_path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def sniff_format(path: str | os.PathLike[str], head: Optional[bytes] = None) -> str:
    """Format family of ``path`` (one of ``FAMILIES``), or raise ``BadFileError``.

    Content wins over the extension; the extension decides only where the first bytes
    carry no signature (MRC before 2014, for instance).
    """
    p = Path(path)
    ext = p.suffix.lower()
    if head is None:
        head = _head(p)
    if not head:
        raise BadFileError(p, "empty file (0 bytes)")
    family = _family_from_content(head, ext)
    if family:
        return family
    for family, extensions in FORMAT_EXTENSIONS.items():
        if ext in extensions:
            return family
    raise BadFileError(
        p, f"not a supported image file (unrecognised content; readable: {', '.join(sorted(IMAGE_EXTENSIONS))})"
    )


def _head(p: Path) -> bytes:
    """The first KiB of ``p``; missing, unreadable and empty files are ``BadFileError``."""
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise BadFileError(p, "file not found (or a dangling link)") from None
    except OSError as exc:
        raise BadFileError(p, f"cannot stat file ({exc.strerror or exc})") from None
    if size == 0:
        raise BadFileError(p, "empty file (0 bytes)")
    try:
        with open(p, "rb") as fh:
            return fh.read(1024)
    except OSError as exc:
        raise BadFileError(p, f"cannot open file ({exc.strerror or exc})") from None


def _family_from_content(head: bytes, ext: str) -> Optional[str]:
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
    return None


def rsciio_reader(path: str | os.PathLike[str]) -> Callable[..., list[dict[str, Any]]]:
    """rosettasciio's ``file_reader`` for an EM file (``BadFileError`` when the extra is missing)."""
    p = Path(path)
    ext = p.suffix.lower()
    sub = RSCIIO_MODULES.get(ext, "digitalmicrograph")
    try:
        mod = __import__(f"rsciio.{sub}", fromlist=["file_reader"])
    except ImportError:
        raise BadFileError(
            p,
            f"reading {ext or 'this'} files needs the optional extra 'em-formats' (rosettasciio): {EM_EXTRA_HINT}",
        ) from None
    return mod.file_reader


def check_table(table: dict[str, Any], owner: str) -> dict[str, Any]:
    """``table`` unchanged if it has exactly one entry per family (guards the dispatch tables)."""
    if set(table) != set(FAMILIES):
        raise AssertionError(f"{owner}: dispatch table covers {sorted(table)}, formats are {list(FAMILIES)}")
    return table
