"""The one format table: readers and metadata dispatch over the same families."""

from __future__ import annotations

import os

import numpy as np
import pytest

from emkit.data import formats
from emkit.data.readers import READERS, list_images, read_image
from emkit.errors import DataError
from emkit.predict.metadata import META_READERS


def test_readers_and_metadata_cover_exactly_the_format_families():
    assert set(READERS) == set(META_READERS) == set(formats.FAMILIES)
    with pytest.raises(AssertionError, match="dispatch table"):
        formats.check_table({"tiff": None}, "test")


def test_every_extension_belongs_to_one_family():
    seen = [e for exts in formats.FORMAT_EXTENSIONS.values() for e in exts]
    assert len(seen) == len(set(seen)) == len(formats.IMAGE_EXTENSIONS)
    assert set(formats.RSCIIO_MODULES) == formats.EM_EXTENSIONS


def test_display_path_shows_undecodable_bytes():
    name = b"odd\xff.tif".decode("utf-8", "surrogateescape")
    assert formats.display_path(name) == "odd\\xff.tif"
    assert formats.BadFileError(name, "x").path == "odd\\xff.tif"


def test_list_images_reports_link_loops(tmp_path, write_tiff, rng):
    write_tiff("a/good.tif", rng.integers(0, 255, (8, 8), dtype=np.uint8))
    os.symlink("self.tif", tmp_path / "a" / "self.tif")
    os.symlink("..", tmp_path / "a" / "up")
    with pytest.raises(DataError, match="symbolic link loop"):
        list_images(tmp_path)
    seen = []
    assert list_images(tmp_path, on_problem=seen.append) == ["a/good.tif"]
    assert sorted(e.reason.split(" (")[0] for e in seen) == ["symbolic link loop"] * 2


def test_reader_boundary_words_library_errors(tmp_path):
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 40000, 40000, 8, 0, 0, 0, 0))
    (tmp_path / "bomb.png").write_bytes(bomb + chunk(b"IEND", b""))
    with pytest.raises(DataError, match=r"bomb.png: image header claims 40000x40000 = 1600000000 pixels, above"):
        read_image(tmp_path / "bomb.png")
