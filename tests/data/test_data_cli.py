"""``emkit data synth|pack|show`` through typer's CliRunner, round-tripping the real readers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from emkit.cli.app import app, main


def run(*args):
    result = CliRunner().invoke(app, ["data", *map(str, args)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def build(name, split="train", **values):
    from emkit.data.build import build_dataset

    return build_dataset(name, values, split)


def test_help_lists_data_commands():
    out = CliRunner().invoke(app, ["data", "--help"]).output
    for cmd in ("synth", "pack", "show"):
        assert cmd in out


def test_synth_stem_roundtrips_through_temimagenet(tmp_path):
    out = run("synth", "stem", "--out", tmp_path / "tem", "--n", 6, "--size", 64)
    assert "data=temimagenet" in out
    for folder in ("image", "noNoise", "noBackgroundnoNoise", "noNoiseNoBackgroundSuperresolution", "circularMask"):
        assert len(list((tmp_path / "tem" / folder).glob("*.png"))) == 6
    real = build("temimagenet", root=str(tmp_path / "tem"), val_fraction=0.0, test_fraction=0.0)
    synth = build("synthetic-stem", size=64, length=6)
    for kind in ("denoise", "background-removal", "super-resolution", "segmentation"):
        real.select_target(kind)
        synth.select_target(kind)
        for i in range(6):
            a, b = real[i], synth[int(real[i]["source"])]
            assert set(a) == set(b)
            for key in ("image", "target", "mask"):
                if key in a:
                    assert torch.equal(a[key], b[key]), (kind, i, key)


def test_synth_hrtem_roundtrips_through_au_hdf5(tmp_path):
    run("synth", "synthetic-hrtem", "--out", tmp_path / "au", "--n", 3, "--size", 96)
    real = build("au-hdf5", root=str(tmp_path / "au"), val_fraction=0.0, test_fraction=0.0, normalize="none")
    synth = build("synthetic-hrtem", size=96, length=3)
    assert len(real) == 3
    for i in range(3):
        assert torch.equal(real[i]["image"], synth[i]["image"]) and torch.equal(real[i]["mask"], synth[i]["mask"])


def test_synth_cem_roundtrips_through_folder_and_pack(tmp_path):
    run("synth", "cem", "--out", tmp_path / "cem", "--n", 12, "--size", 48, "--sources", 3)
    assert sorted(p.name for p in (tmp_path / "cem").iterdir()) == ["source_00", "source_01", "source_02"]
    folder = build("folder", root=str(tmp_path / "cem"), val_fraction=0.0)
    synth = build("synthetic-cem", size=48, length=12)
    for i in range(12):
        idx = int(folder[i]["source"].split("_")[-1].split(".")[0])
        assert torch.equal(folder[i]["image"], synth[idx]["image"])
    out = run("pack", tmp_path / "cem", tmp_path / "packed")
    assert "packed 12 images (48x48 uint8)" in out and "data=packed" in out
    packed = build("packed", root=str(tmp_path / "packed"), val_fraction=0.0)
    assert sorted(packed[i]["source"] for i in range(12)) == sorted(folder[i]["source"] for i in range(12))
    assert all(torch.equal(packed[i]["image"], folder[i]["image"]) for i in range(12))


def test_pack_reports_skipped_files(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (16, 16)).astype(np.uint8)).save(src / f"{i}.png")
    (src / "bad.png").write_bytes(b"")
    out = run("pack", src, tmp_path / "p", "--on-error", "skip")
    assert "packed 3 images" in out and "1 file skipped" in out and "bad.png" in out


def test_show_writes_grid_and_statistics(tmp_path):
    grid = tmp_path / "grid.png"
    out = run("show", "synthetic-stem", "length=5", "size=64", "--out", grid, "--n", 4, "--cell", 64)
    assert grid.exists() and "statistics of 4 samples" in out
    for word in ("image", "target", "mask", "uint8", "(1, 64, 64)"):
        assert word in out
    im = Image.open(grid)
    assert im.mode == "RGB" and im.size[0] >= 3 * 64 and im.size[1] >= 64
    out = run("show", "synthetic-stem", "data.length=3", "size=64", "--target", "segmentation", "--out", grid,
              "--n", 3, "--cell", 32)
    assert "provides image, mask" in out and "target" not in out.split("statistics")[1]


def test_show_skipped_files_and_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    for i in range(3):
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (16, 16)).astype(np.uint8)).save(tmp_path / "d" / f"{i}.png")
    (tmp_path / "d" / "bad.png").write_text("nope")
    out = run("show", "folder", f"root={tmp_path / 'd'}", "val_fraction=0", "on_error=skip", "--out", tmp_path / "g.png")
    assert "1 file skipped" in out and "bad.png" in out
    for args, needle in (
        (["data", "show", "folder", f"root={tmp_path / 'd'}", "val_fraction=0", "--out", str(tmp_path / "g.png")], "bad.png"),
        (["data", "show", "foldr"], "Did you mean 'folder'"),
        (["data", "show", "folder", "rooot=/x"], "Unknown config key"),
        (["data", "synth", "sem", "--out", str(tmp_path / "x")], "Unknown synthetic kind"),
        (["data", "pack", str(tmp_path / "none"), str(tmp_path / "o")], "not found"),
    ):
        with pytest.raises(SystemExit) as exc:
            main(args)
        assert exc.value.code == 2
        err = capsys.readouterr().err.strip()
        assert needle in err and err.count("\n") == 0 and "Traceback" not in err, err
