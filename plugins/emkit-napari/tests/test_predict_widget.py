"""The predict widget, driven as a user would in a real (headless) napari viewer."""

from __future__ import annotations

import numpy as np
import pytest

from emkit_napari.predict_widget import PredictWidget
from emkit_napari.sample_data import synthetic_stem
from widget_runs import run_to_end



@pytest.fixture
def viewer_with_stem(make_napari_viewer):  # noqa: ANN001, ANN201
    viewer = make_napari_viewer()
    for data, kwargs, kind in synthetic_stem():
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    viewer.layers["synthetic STEM"].scale = (0.05, 0.05)
    return viewer


def test_segmentation_adds_labels_and_probability(make_napari_viewer, viewer_with_stem, qtbot, seg_run):  # noqa: ANN001
    viewer = viewer_with_stem
    widget = PredictWidget(viewer)
    qtbot.addWidget(widget)
    widget.set_model(seg_run)
    widget.image.select("synthetic STEM")
    widget.tile.setValue(128)
    added = run_to_end(qtbot, widget)
    names = [layer.name for layer in added]
    assert names == ["synthetic STEM (seg) probability", "synthetic STEM (seg) mask"]
    prob, mask = viewer.layers[names[0]], viewer.layers[names[1]]
    assert prob._type_string == "image" and mask._type_string == "labels"
    assert prob.data.shape == mask.data.shape == (256, 256)
    assert prob.data.dtype == np.float32 and 0.0 <= prob.data.min() <= prob.data.max() <= 1.0
    np.testing.assert_array_equal(mask.data, (prob.data > 0.5).astype(np.uint8))
    assert tuple(mask.scale) == (0.05, 0.05)
    assert widget.progress.value() == widget.progress.maximum() == 9  # 3 x 3 tiles of 128 over 256 px


def test_threshold_and_no_probability(viewer_with_stem, qtbot, seg_run):  # noqa: ANN001
    widget = PredictWidget(viewer_with_stem)
    qtbot.addWidget(widget)
    widget.set_model(seg_run)
    widget.image.select("synthetic STEM")
    widget.probability.setChecked(False)
    widget.threshold.setValue(0.0)  # every probability is above 0: all foreground
    added = run_to_end(qtbot, widget)
    assert [layer._type_string for layer in added] == ["labels"]
    assert added[0].data.min() == 1


def test_restoration_adds_an_image(viewer_with_stem, qtbot, denoise_run):  # noqa: ANN001
    widget = PredictWidget(viewer_with_stem)
    qtbot.addWidget(widget)
    widget.set_model(denoise_run)
    widget.image.select("synthetic STEM")
    added = run_to_end(qtbot, widget)
    assert [layer.name for layer in added] == ["synthetic STEM (denoise) restored"]
    assert added[0]._type_string == "image" and added[0].data.shape == (256, 256)
    assert 0.0 <= added[0].data.min() <= added[0].data.max() <= 1.0
    # A second run replaces the layer instead of piling up copies.
    run_to_end(qtbot, widget)
    assert sum(layer.name == "synthetic STEM (denoise) restored" for layer in viewer_with_stem.layers) == 1


def test_stack_is_predicted_plane_by_plane(make_napari_viewer, qtbot, seg_run):  # noqa: ANN001
    viewer = make_napari_viewer()
    stack = np.stack([synthetic_stem(64)[0][0], synthetic_stem(64)[0][0][::-1]])
    viewer.add_image(stack, name="stack")
    widget = PredictWidget(viewer)
    qtbot.addWidget(widget)
    widget.set_model(seg_run)
    added = run_to_end(qtbot, widget)
    assert added[-1].data.shape == (2, 64, 64)


def test_bad_model_path_is_one_clear_line(viewer_with_stem, qtbot, tmp_path):  # noqa: ANN001
    widget = PredictWidget(viewer_with_stem)
    qtbot.addWidget(widget)
    widget.set_model(tmp_path / "missing-run")
    text = run_to_end(qtbot, widget)
    assert text == f"{tmp_path / 'missing-run'}: no such run folder, weights file or bioimage.io package"
    assert widget.status.text() == text
    assert [layer.name for layer in viewer_with_stem.layers] == ["synthetic STEM", "synthetic STEM (no noise)",
                                                                 "atom columns"]


def test_cancel_stops_and_adds_nothing(viewer_with_stem, qtbot, seg_run):  # noqa: ANN001
    widget = PredictWidget(viewer_with_stem)
    qtbot.addWidget(widget)
    widget.set_model(seg_run)
    widget.image.select("synthetic STEM")
    widget.tile.setValue(32)
    widget._relay.progress.connect(lambda done, total: widget.cancel())
    text = run_to_end(qtbot, widget)
    assert "cancelled after" in text
    assert len(viewer_with_stem.layers) == 3


def test_bioimageio_package_matches_its_run(make_napari_viewer, qtbot, seg_run, seg_package):  # noqa: ANN001
    """A package of a run predicts what the run predicts (uint8 input: the run's training type)."""
    viewer = make_napari_viewer()
    image = (synthetic_stem(128)[0][0] * 255).astype(np.uint8)
    viewer.add_image(image, name="stem8")
    results = {}
    for model in (seg_run, seg_package):
        widget = PredictWidget(viewer)
        qtbot.addWidget(widget)
        widget.set_model(model)
        results[model] = [layer.data.copy() for layer in run_to_end(qtbot, widget)]
        assert widget.progress.value() == widget.progress.maximum()
    (run_prob, _), (pkg_prob, pkg_mask) = results[seg_run], results[seg_package]
    assert pkg_prob.shape == (128, 128) and pkg_mask.dtype == np.uint8
    np.testing.assert_allclose(pkg_prob, run_prob, atol=1e-4)
    np.testing.assert_array_equal(pkg_mask, (pkg_prob > 0.5).astype(np.uint8))
