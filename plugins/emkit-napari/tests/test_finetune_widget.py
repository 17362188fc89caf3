"""The fine-tune widget, driven in a headless napari viewer: real (tiny) emkit trainings."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from emkit_napari.finetune_widget import FinetuneWidget
from emkit_napari.predict_widget import PredictWidget
from emkit_napari.sample_data import synthetic_stem
from widget_runs import run_to_end

TINY = "generator.blocks=2 generator.width=4 train.batch_size=4"


@pytest.fixture
def widget(make_napari_viewer, qtbot, tmp_path):  # noqa: ANN001, ANN201
    viewer = make_napari_viewer()
    for data, kwargs, kind in synthetic_stem(128):
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    w = FinetuneWidget(viewer)
    qtbot.addWidget(w)
    w.image.select("synthetic STEM")
    w.partner.select("atom columns")
    w.runs_dir.setText(str(tmp_path / "runs"))
    w.device.setCurrentText("cpu")
    w.epochs.setValue(2)
    w.patch.setValue(32)
    w.extra.setText(TINY)
    return w


def epoch_rows(run: Path) -> list[dict]:
    with open(run / "metrics.csv", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["kind"] == "epoch"]


def test_segmentation_from_layers_is_a_normal_run_then_predicts(widget, qtbot):  # noqa: ANN001
    widget.name.setText("seg-layers")
    run = run_to_end(qtbot, widget)
    assert run == Path(widget.runs_dir.text()) / "seg-layers"
    assert (run / "generator.safetensors").is_file() and (run / "checkpoints").is_dir()
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["task"]["name"] == "segmentation" and config["task"]["crop"] == 32
    assert config["data"]["name"] == "mask-folder" and config["train"]["epochs"] == 2
    data = Path(config["data"]["root"])
    assert sorted(p.name for p in data.iterdir()) == ["image", "mask", "splits"]
    assert len(list((data / "image").iterdir())) == 16  # 128 px in 32 px patches
    assert len(epoch_rows(run)) == 2
    # the live curves got every logged step and both epochs' validation values
    steps = widget.progress.maximum()
    assert [x for x, _ in widget.curves.loss["train loss"]] == list(range(1, steps + 1))
    assert len(widget.curves.loss["val_bce"]) == 2 and len(widget.curves.metrics["val_dice"]) == 2
    assert widget.progress.value() == steps
    # the run is a model for the predict widget
    predict = PredictWidget(widget.viewer)
    qtbot.addWidget(predict)
    predict.set_model(run)
    predict.image.select("synthetic STEM")
    assert [la._type_string for la in run_to_end(qtbot, predict)] == ["image", "labels"]


def test_init_from_a_run_takes_its_generator(widget, qtbot, seg_run):  # noqa: ANN001
    widget.init.setCurrentText(str(seg_run))
    widget.extra.setText("train.batch_size=4")
    widget.epochs.setValue(1)
    run = run_to_end(qtbot, widget)
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["init"] == str(seg_run)
    assert config["generator"]["blocks"] == 2 and config["generator"]["width"] == 4  # from the run, not defaults


def test_init_self_pretrains_first_and_plots_both_stages(widget, qtbot):  # noqa: ANN001
    widget.init.setCurrentText("self")
    widget.epochs.setValue(1)
    widget.extra.setText(f"{TINY} pretrain.steps=2")
    run = run_to_end(qtbot, widget)
    assert (run / "pretrain" / "generator.safetensors").is_file()
    assert (run / "generator.safetensors").is_file()
    assert any(name.startswith("pretext train") for name in widget.curves.loss)
    assert "train loss" in widget.curves.loss


def test_restoration_from_an_image_target(widget, qtbot):  # noqa: ANN001
    widget.task.setCurrentText("denoise")
    widget.partner.select("synthetic STEM (no noise)")
    widget.epochs.setValue(1)
    run = run_to_end(qtbot, widget)
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["task"]["name"] == "denoise" and config["data"]["name"] == "paired-folder"
    assert (Path(config["data"]["root"]) / "target").is_dir()
    assert set(widget.curves.metrics) == {"val_psnr", "val_ssim"}
    assert {"train loss", "val_l1", "val_l1_identity"} <= set(widget.curves.loss)
    assert widget.metric_choice.currentText() == "val_psnr"
    assert list(widget.metric_plot.series) == ["val_psnr"] and widget.metric_plot.ylabel == "val_psnr"


def test_dataset_folder_instead_of_layers(widget, qtbot, tmp_path):  # noqa: ANN001
    from emkit.data.arrays import write_array_dataset

    image, _, mask = (layer[0] for layer in synthetic_stem(128))
    folder = write_array_dataset(tmp_path / "ds", "mask", image, mask, patch=32).root  # 16 patches
    widget.folder.setText(str(folder))
    widget.epochs.setValue(1)
    widget.extra.setText(f"{TINY} train.batch_size=2 data.val_fraction=0.25")
    run = run_to_end(qtbot, widget)
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["data"]["name"] == "mask-folder" and config["data"]["root"] == str(folder)
    assert config["data"].get("split_files") is None and config["task"]["crop"] == 32


def test_cancel_keeps_the_run_directory(widget, qtbot):  # noqa: ANN001
    widget.name.setText("cancelled")
    widget._relay.metrics.connect(lambda *args: widget.cancel())
    text = run_to_end(qtbot, widget)
    run = Path(widget.runs_dir.text()) / "cancelled"
    # the request reaches the training thread through a queued signal: it stops a step or two later
    step = re.match(r"training cancelled at step (\d+); ", text)
    assert step and int(step.group(1)) < widget.progress.maximum(), text
    assert f"emkit run resume={run}" in text
    assert (run / "config.yaml").is_file() and not (run / "generator.safetensors").exists()
    assert widget.run_button.isEnabled() and not widget.cancel_button.isEnabled()


def test_missing_layers_say_what_to_choose(make_napari_viewer, qtbot, tmp_path):  # noqa: ANN001
    w = FinetuneWidget(make_napari_viewer())
    qtbot.addWidget(w)
    w.runs_dir.setText(str(tmp_path))
    assert run_to_end(qtbot, w) == "choose an image layer and a labels/target layer, or a dataset folder"


def test_mismatched_layers_are_one_clear_line(widget, qtbot):  # noqa: ANN001
    widget.viewer.add_labels(np.zeros((64, 64), np.uint8), name="small labels")
    widget.partner.select("small labels")
    text = run_to_end(qtbot, widget)
    assert text == ("layers 'synthetic STEM' (1, 128, 128) and 'small labels' (1, 64, 64) differ in shape; "
                    "they must cover the same pixels")
