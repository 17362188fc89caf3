"""metrics.csv rows → the fine-tune widget's curves."""

from __future__ import annotations

from emkit_napari.finetune_core import Curves, build_overrides, FinetuneRequest


def test_rows_split_into_loss_and_metric_curves() -> None:
    curves = Curves()
    curves.add([{"kind": "step", "epoch": "1", "step": "1", "loss": "0.7", "lr": "1e-4", "images_per_s": "9"},
                {"kind": "epoch", "epoch": "1", "step": "1", "val_bce": "0.6", "val_dice": "0.1",
                 "val_l1_identity": "0.3", "ops": "cpu=native"}])
    curves.add([{"kind": "step", "epoch": "1", "step": "5", "g_l1": "0.2", "d_loss": ""}], stage="pretrain")
    assert curves.loss == {"train loss": [(1.0, 0.7)], "val_bce": [(1.0, 0.6)], "val_l1_identity": [(1.0, 0.3)],
                           "pretext train g_l1": [(5.0, 0.2)]}
    assert curves.metrics == {"val_dice": [(1.0, 0.1)]}


def test_user_settings_win_and_init_run_keeps_its_generator(tmp_path) -> None:  # noqa: ANN001
    folder = tmp_path / "ds"
    (folder / "image").mkdir(parents=True)
    (folder / "mask").mkdir()
    req = FinetuneRequest(folder=str(folder), init="/some/run", runs_dir=str(tmp_path), name="r",
                          extra="task.crop=64 train.epochs=9")
    items, _ = build_overrides(req)
    assert items.count("task.crop=64") == 1 and "task.crop=128" not in items
    assert items[-2:] == ["task.crop=64", "train.epochs=9"]
    assert not any(item.startswith("generator=") for item in items)
