"""``emkit eval --weights best --save-predictions`` on a real tiny run."""

from __future__ import annotations

import csv
import json

import h5py
import numpy as np
from run_support import run_cli


def test_eval_writes_per_image_csv_predictions_and_grid_for_best_weights(tmp_path, capsys):
    rng = np.random.default_rng(0)
    maps = np.zeros((10, 2, 32, 32), np.float32)
    maps[:, 1, :12] = 1
    with h5py.File(tmp_path / "au.h5", "w") as fh:
        fh["images"] = rng.normal(5, 2, (10, 1, 32, 32)).astype(np.float32)
        fh["maps"] = maps
    code, out, err = run_cli(["run", "task=segmentation", "data=au-hdf5", f"data.root={tmp_path / 'au.h5'}",
                              "data.val_fraction=0.2", "data.test_fraction=0.3", "task.crop=32", "generator=unet",
                              "generator.blocks=2", "generator.width=4", "train.epochs=2", "train.batch_size=2",
                              "train.device=cpu", "train.keep_best=dice", f"runs_dir={tmp_path / 'runs'}", "name=r"],
                             capsys)
    assert code == 0, err
    run = tmp_path / "runs" / "r"
    best = json.loads((run / "best" / "best.json").read_text())
    assert best["metric"] == "val_dice" and best["epoch"] in (1, 2)
    code, out, err = run_cli(["eval", str(run), "--weights", "best", "--save-predictions", "--device", "cpu"], capsys)
    assert code == 0, err
    rows = list(csv.DictReader(open(run / "eval_test_best" / "per_image.csv")))
    assert rows and all(r["key"].startswith("au.h5#") for r in rows)
    result = json.loads((run / "eval_test_best.json").read_text())
    assert result["weights"] == "best/generator.safetensors" and result["samples"] == len(rows)
    assert abs(np.mean([float(r["dice"]) for r in rows]) - result["dice"]) < 1e-9
    import tifffile

    tiffs = sorted((run / "eval_test_best" / "predictions").glob("*.tif"))
    assert len(tiffs) == len(rows) and set(np.unique(tifffile.imread(tiffs[0]))) <= {0, 1}
    assert (run / "eval_test_best" / "worst_best.png").exists()
    code, out, err = run_cli(["eval", str(tmp_path / "runs" / "r"), "--weights", "bets"], capsys)
    assert code == 2 and "--weights must be final or best" in err
