"""EM vendor formats through the real rosettasciio (the ``em-formats`` extra; CI installs it).

No vendor file that may be redistributed is at hand, so the files come from writers:
rosettasciio's own Berkeley EMD writer, and h5py following the Berkeley EMD 0.2 layout
(``data`` plus ``dim1..dimN`` vectors, ``dim1`` describing the first index). Each read
through emkit must match, pixel for pixel and in orientation, an independent reading of
the same file: h5py and the layout's dimension names, without rosettasciio.

Not tested here (rosettasciio reads but cannot write them, and no sample file is
available): DM3 and DM4 (Gatan DigitalMicrograph), SER/EMI (FEI TIA) and Velox EMD.
Their path through emkit (``read_em``: rosettasciio's reader, the first image signal,
the same axis handling) is the one exercised below.
"""

from __future__ import annotations

import numpy as np
import pytest

from emkit.data.readers import BadFileError, read_image, sniff_format
from emkit.errors import DataError

rsciio_emd = pytest.importorskip("rsciio.emd", reason="needs the em-formats extra: pip install 'emkit[em-formats]'")


def independent_read(path, group="image"):
    """The image of a Berkeley EMD group read with h5py alone: rows along y, columns along x."""
    import h5py

    with h5py.File(path, "r") as fh:
        node = fh[f"data/{group}"] if f"data/{group}" in fh else fh[f"signals/{group}"]
        data = node["data"][()]
        names = [str(node[f"dim{i + 1}"].attrs["name"]) for i in range(data.ndim)]
    order = [i for i, n in enumerate(names) if n not in ("y", "x")] + [names.index("y"), names.index("x")]
    return np.transpose(data, order)


def write_spec_emd(path, image, dims=("y", "x"), extra_spectrum=False):
    """A Berkeley EMD file written with h5py: ``image`` stored in the order of ``dims``."""
    import h5py

    stored = image if tuple(dims[-2:]) == ("y", "x") else np.swapaxes(image, -1, -2)
    with h5py.File(path, "w") as fh:
        fh.attrs["version_major"], fh.attrs["version_minor"] = 0, 2
        if extra_spectrum:  # a 1-D signal first: emkit must skip it and take the image
            spec = fh.create_group("data/a_spectrum")
            spec.attrs["emd_group_type"] = 1
            spec["data"] = np.linspace(0, 1, 30, dtype=np.float32)
            dim = spec.create_dataset("dim1", data=np.arange(30, dtype=np.float64))
            dim.attrs["name"], dim.attrs["units"] = "E", "[eV]"
        group = fh.create_group("data/image")
        group.attrs["emd_group_type"] = 1
        group["data"] = stored
        for i, name in enumerate(dims):
            dim = group.create_dataset(f"dim{i + 1}", data=np.arange(stored.shape[i], dtype=np.float64))
            dim.attrs["name"], dim.attrs["units"] = name, "[n_m]"
    return path


@pytest.mark.parametrize("dtype", [np.float32, np.uint16, np.int16])
def test_emd_written_by_rosettasciio_reads_in_its_orientation(tmp_path, rng, dtype):
    image = (rng.random((12, 20)) * 1000).astype(dtype)  # not square: a transpose cannot hide
    axes = [{"name": n, "size": s, "offset": 0.0, "scale": 1.0, "units": "nm", "navigate": False}
            for n, s in (("y", 12), ("x", 20))]
    signal = {"data": image, "axes": axes, "metadata": {"General": {"title": "image"}, "Signal": {}},
              "original_metadata": {}}
    path = tmp_path / "written_by_rsciio.emd"
    rsciio_emd.file_writer(str(path), signal)
    assert sniff_format(path) == "em"
    expected = independent_read(path)
    assert expected.shape == (12, 20)
    out = read_image(path)
    assert out.dtype == np.dtype(dtype) and out.shape == expected.shape
    assert np.array_equal(out, expected) and np.array_equal(out, image)


@pytest.mark.parametrize("dims", [("y", "x"), ("x", "y")], ids=["y-first", "x-first"])
def test_emd_from_the_layout_reads_rows_along_y_whichever_dimension_comes_first(tmp_path, rng, dims):
    image = rng.random((16, 20)).astype(np.float32)
    path = write_spec_emd(tmp_path / "b.emd", image, dims)
    assert np.array_equal(independent_read(path), image)
    out = read_image(path)
    assert out.shape == (16, 20) and np.array_equal(out, image)


def test_emd_skips_a_spectrum_and_takes_the_image(tmp_path, rng):
    image = rng.random((8, 10)).astype(np.float32)
    path = write_spec_emd(tmp_path / "mixed.emd", image, extra_spectrum=True)
    assert np.array_equal(read_image(path), independent_read(path))


def test_emd_stack_slices(tmp_path, rng):
    stack = rng.random((3, 8, 10)).astype(np.float32)
    path = write_spec_emd(tmp_path / "stack.emd", stack, ("z", "y", "x"))
    assert np.array_equal(independent_read(path), stack)
    assert np.array_equal(read_image(path, 2), stack[2])
    with pytest.raises(BadFileError, match="slice 3 out of range"):
        read_image(path, 3)


def test_a_damaged_emd_is_one_error_naming_the_file(tmp_path, rng):
    path = write_spec_emd(tmp_path / "whole.emd", rng.random((8, 10)).astype(np.float32))
    cut = tmp_path / "cut.emd"
    cut.write_bytes(path.read_bytes()[:1500])
    with pytest.raises(DataError) as err:
        read_image(cut)
    assert "cut.emd" in str(err.value) and "\n" not in str(err.value)

