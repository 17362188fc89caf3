"""Where ``emkit predict`` writes: a default folder without ``--out``, and the real cause when it cannot."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import tifffile

from run_support import needs_unet, run_cli

SMALL = {"blocks": 2, "width": 4}


@needs_unet
def test_without_out_the_outputs_go_to_the_runs_predictions_folder(make_run, tmp_path, capsys):
    run = make_run("unet", SMALL, task="denoise", out_scale=0.2)
    tifffile.imwrite(tmp_path / "a.tif", np.random.default_rng(0).integers(0, 256, (40, 50), dtype=np.uint8))
    code, stdout, err = run_cli(["predict", str(run), str(tmp_path / "a.tif"), "-q"], capsys)
    assert code == 0, err
    assert f"writing to {run / 'predictions'} (no --out given)\n" in err
    assert sum("writing to" in line for line in err.splitlines()) == 1
    assert (run / "predictions" / "a_pred.tif").exists() and str(run / "predictions" / "a_pred.tif") in stdout
    # a lone weights file: beside it; a second run over the folder does not predict its own outputs
    code, _, err = run_cli(["predict", str(run / "generator.safetensors"), str(tmp_path / "a.tif"), "-q"], capsys)
    assert code == 0 and (run / "predictions" / "a_pred.tif").exists(), err


@needs_unet
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux's /proc")
def test_an_output_folder_that_cannot_be_created_names_the_real_cause(make_run, tmp_path, capsys):
    run = make_run("unet", SMALL, task="denoise", out_scale=0.2)
    tifffile.imwrite(tmp_path / "a.tif", np.zeros((40, 50), np.uint8))
    code, _, err = run_cli(["predict", str(run), str(tmp_path / "a.tif"), "--out", "/proc/emkit-test/out"], capsys)
    assert code == 2
    assert err == ("error: Cannot create the output folder /proc/emkit-test: No such file or directory -- "
                   "/proc is on a proc file system, where nothing can be created; choose another folder\n")


@needs_unet
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write to any folder")
def test_an_output_folder_under_a_read_only_folder_names_that_folder(make_run, tmp_path, capsys):
    run = make_run("unet", SMALL, task="denoise", out_scale=0.2)
    tifffile.imwrite(tmp_path / "a.tif", np.zeros((40, 50), np.uint8))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        code, _, err = run_cli(["predict", str(run), str(tmp_path / "a.tif"), "--out", str(locked / "o")], capsys)
    finally:
        locked.chmod(0o755)
    assert code == 2
    assert err.startswith(f"error: Cannot create the output folder {locked / 'o'}: Permission denied -- ")
    assert f"{locked} exists but this user cannot write to it" in err and err.count("\n") == 1
