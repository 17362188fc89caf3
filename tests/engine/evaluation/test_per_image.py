"""Per-image evidence: known Dice per item key in the CSV, saved masks, worst/best grid."""

from __future__ import annotations

import csv
import types

import h5py
import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from emkit.plugin_api import StepContext
from emkit.engine.runtime.devices import autocast_factory
from emkit.engine.evaluation.evidence_grid import worst_and_best
from emkit.engine.evaluation.per_image import evaluate_images, write_evidence
from emkit_builtin.tasks.segmentation import Segmentation, SegmentationConfig

SIZE = 32


class LeftHalf(nn.Module):
    """Predicts particle on the left half of every image (logit +10), background elsewhere."""

    def forward(self, x):
        out = torch.full_like(x, -10.0)
        out[..., : SIZE // 2] = 10.0
        return out


def write_au(path, n=4):
    """Image i's particle is the top 4 * (i + 1) rows."""
    maps = np.zeros((n, 2, SIZE, SIZE), np.float32)
    for i in range(n):
        maps[i, 1, : 4 * (i + 1)] = 1
    with h5py.File(path, "w") as fh:
        fh["images"] = np.random.default_rng(0).normal(5, 2, (n, 1, SIZE, SIZE)).astype(np.float32)
        fh["maps"] = maps


def expected_dice(i):
    truth, pred, inter = SIZE * 4 * (i + 1), SIZE * SIZE // 2, SIZE // 2 * 4 * (i + 1)
    return 2 * inter / (truth + pred)


@pytest.fixture
def setup(tmp_path):
    from emkit.data.build import build_dataset

    write_au(tmp_path / "au.h5")
    ds = build_dataset("au-hdf5", {"root": str(tmp_path / "au.h5"), "val_fraction": 0.0, "test_fraction": 0.0})
    net = LeftHalf()
    objective = types.SimpleNamespace(task=Segmentation(SegmentationConfig()), generator=net,
                                      modules=lambda: {"generator": net})
    ctx = StepContext(device=torch.device("cpu"), autocast=autocast_factory(torch.device("cpu"), "fp32"))
    return objective, DataLoader(ds, batch_size=3), ctx


def test_csv_holds_the_known_dice_of_every_item(setup, tmp_path):
    objective, loader, ctx = setup
    means = write_evidence(objective, loader, ctx, tmp_path / "ev", salt=1, seed=0, split="test",
                           save_predictions=True)
    rows = list(csv.DictReader(open(tmp_path / "ev" / "per_image.csv")))
    assert [r["key"] for r in rows] == [f"au.h5#{i}" for i in range(4)]
    for i, row in enumerate(rows):
        assert float(row["dice"]) == pytest.approx(expected_dice(i), abs=1e-5)
    assert means["dice"] == pytest.approx(np.mean([expected_dice(i) for i in range(4)]), abs=1e-5)
    import tifffile

    mask = tifffile.imread(tmp_path / "ev" / "predictions" / "au.h5_2.tif")
    assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 1}
    assert mask[:, : SIZE // 2].all() and not mask[:, SIZE // 2:].any()
    assert (tmp_path / "ev" / "worst_best.png").exists()


def test_worst_and_best_follow_the_metric_direction():
    rows = [{"index": i, "key": str(i), "dice": d} for i, d in enumerate([0.5, 0.9, 0.1, 0.7])]
    assert worst_and_best(rows, 1) == ("dice", [2], [1])
    rows = [{"index": i, "key": str(i), "l1": d} for i, d in enumerate([0.5, 0.9, 0.1, 0.7])]
    assert worst_and_best(rows, 2) == ("l1", [1, 3], [2, 0])


def test_without_predictions_no_images_are_kept(setup):
    objective, loader, ctx = setup
    means, rows, thumbs = evaluate_images(objective, loader, ctx, salt=1, seed=0)
    assert len(rows) == 4 and thumbs == {} and set(means) == {"dice", "iou", "bce"}


def test_restoration_predictions_are_float_images_and_pretexts_are_refused(tmp_path):
    from emkit.data.build import build_dataset
    from emkit.errors import EmkitError
    from emkit_builtin.tasks.restoration import Denoise, RestorationConfig

    ds = build_dataset("synthetic-stem", {"size": 32, "length": 2, "val_length": 3}, "val", target="denoise")
    identity = nn.Identity()
    objective = types.SimpleNamespace(task=Denoise(RestorationConfig()), generator=identity,
                                      modules=lambda: {"generator": identity})
    ctx = StepContext(device=torch.device("cpu"), autocast=autocast_factory(torch.device("cpu"), "fp32"))
    write_evidence(objective, DataLoader(ds, batch_size=2), ctx, tmp_path / "ev", salt=1, seed=0, split="val",
                   save_predictions=True)
    rows = list(csv.DictReader(open(tmp_path / "ev" / "per_image.csv")))
    assert len(rows) == 3 and all(float(r["l1"]) == pytest.approx(float(r["l1_identity"]), abs=1e-6) for r in rows)
    import tifffile

    pred = tifffile.imread(tmp_path / "ev" / "predictions" / f"{rows[0]['key'].replace('/', '_')}.tif")
    assert pred.dtype == np.float32 and 0 <= pred.min() and pred.max() <= 1
    pretext = types.SimpleNamespace(modules=lambda: {}, validation_step=lambda b, c: {})
    with pytest.raises(EmkitError, match="needs a downstream task"):
        evaluate_images(pretext, [], ctx, salt=1, seed=0, predictions_dir=tmp_path / "p")
