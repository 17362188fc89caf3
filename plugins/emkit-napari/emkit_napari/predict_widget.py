"""The predict widget: a model (run directory or bioimage.io package) applied to an image layer.

Pick the model, the image layer and the tiling; *Predict* loads the model and runs
emkit's tiled predictor in a napari worker thread (the viewer stays responsive, the
progress bar counts tiles, *Cancel* stops after the current batch). The result is added
on the input layer's scale: a restoration as an image layer, a segmentation as a labels
layer thresholded at the run's ``task.threshold`` (editable here), with the probability
map as an optional image layer; for a restoration, optionally the residual (input −
output, what the model removed) on a signed colour scale. Lines about the input (planes
unlike the model's training inputs) follow the result in the status text. Re-running
replaces layers of the same name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import numpy as np
from qtpy.QtCore import QObject, Signal
from qtpy.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit,
                            QPushButton, QSpinBox, QVBoxLayout)

from emkit_napari import predict_core as core
from emkit_napari.qt_parts import LayerCombo, WorkerWidget


class _Relay(QObject):
    """Carries tile progress from the worker thread to the GUI thread (a queued signal)."""

    progress = Signal(int, int)


class PredictWidget(WorkerWidget):
    """napari dock widget; ``done`` fires with the added layers (or the error text)."""

    def __init__(self, napari_viewer: Any) -> None:
        from napari.layers import Image

        super().__init__(napari_viewer, "Predict", "choose a model and an image layer",
                         "cancelling after the current batch of tiles …")
        self._relay = _Relay()
        self._relay.progress.connect(self._on_progress)
        self.model_path = QLineEdit()
        self.model_path.setPlaceholderText("run directory, generator.safetensors or bioimage.io .zip")
        self.image = LayerCombo(napari_viewer, (Image,))
        self.tile, self.tta, self.device = QSpinBox(), QCheckBox("8 rotations/flips (8x slower)"), QComboBox()
        self.tile.setRange(32, 8192)
        self.tile.setSingleStep(64)
        self.tile.setValue(512)
        self.device.addItems(["auto", "cpu", "cuda"])
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(0.5)
        self.probability = QCheckBox("also add the probability map")
        self.probability.setChecked(True)
        self.residual = QCheckBox("also add input - output (what was removed)")
        self._layout()
        self.wire_buttons()

    def _layout(self) -> None:
        browse_run, browse_zip = QPushButton("Run folder…"), QPushButton("Package…")
        browse_run.clicked.connect(self._browse_run)
        browse_zip.clicked.connect(self._browse_package)
        pick = QHBoxLayout()
        pick.addWidget(browse_run)
        pick.addWidget(browse_zip)
        form = QFormLayout()
        form.addRow("Model", self.model_path)
        form.addRow("", pick)
        form.addRow("Image layer", self.image)
        form.addRow("Tile (px)", self.tile)
        form.addRow("Test-time aug.", self.tta)
        form.addRow("Device", self.device)
        form.addRow("Mask threshold", self.threshold)
        form.addRow("Segmentation", self.probability)
        form.addRow("Restoration", self.residual)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        self.status.setWordWrap(True)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addLayout(buttons)
        box.addWidget(self.progress)
        box.addWidget(self.status)
        box.addStretch(1)

    def _browse_run(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "emkit run directory")
        if path:
            self.set_model(path)

    def _browse_package(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "bioimage.io package", "", "bioimage.io package (*.zip)")
        if path:
            self.set_model(path)

    def set_model(self, path: str | Path) -> None:
        """Choose the model; a segmentation run's own threshold becomes the default."""
        self.model_path.setText(str(path))
        threshold = _run_threshold(Path(path))
        if threshold is not None:
            self.threshold.setValue(threshold)

    # -- running ------------------------------------------------------------------
    def start(self) -> None:
        layer = self.image.layer()
        path = self.model_path.text().strip()
        if not path or layer is None:
            self.status.setText("choose a model (run directory or package) and an image layer first")
            return
        options = core.TileOptions(tile=self.tile.value(), tta=self.tta.isChecked(), device=self.device.currentText(),
                                   residual=self.residual.isChecked())
        name, rgb = layer.name, bool(getattr(layer, "rgb", False))
        data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data  # full resolution
        place = {"scale": tuple(layer.scale), "translate": tuple(layer.translate)}

        def work() -> tuple[Any, np.ndarray]:
            arr = core.check_layer(data, name, rgb)
            model = core.open_model(path, options)
            return model, core.predict_array(model, arr, name, self._relay.progress.emit, lambda: self._stop)

        self.run_in_worker(f"predicting {name!r} with {Path(path).name} …", work,
                           lambda result: self._add(result, name, place))

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)

    def _add(self, result: tuple[Any, np.ndarray], name: str, place: dict[str, Any]) -> None:
        model, values = result
        layers = core.prediction_layers(model, values, name, threshold=self.threshold.value(),
                                        probability=self.probability.isChecked(), **place)
        added = [add_or_replace(self.viewer, *item) for item in layers]
        self.status.setText(f"{model.name} ({model.kind}): added " + ", ".join(repr(la.name) for la in added)
                            + "".join(f"\n{note}" for note in getattr(model, "notes", [])))
        self.done.emit(added)


def add_or_replace(viewer: Any, data: Any, kwargs: dict[str, Any], kind: str) -> Any:
    """Add a layer, or give an existing layer of that name and type the new data."""
    name = kwargs.get("name")
    if name in viewer.layers and viewer.layers[name]._type_string == kind and "channel_axis" not in kwargs:
        layer = viewer.layers[name]
        layer.data = data
        for key in ("scale", "translate", "metadata"):
            if key in kwargs:
                setattr(layer, key, kwargs[key])
        return layer
    added = getattr(viewer, f"add_{kind}")(data, **kwargs)
    return added[0] if isinstance(added, list) else added


def _run_threshold(path: Path) -> Optional[float]:
    """``task.threshold`` of a segmentation run directory (None for anything else)."""
    import yaml

    config = path / "config.yaml"
    try:
        tree = yaml.safe_load(config.read_text()) if config.is_file() else None
    except (OSError, yaml.YAMLError):
        return None
    task = (tree or {}).get("task") or {}
    if isinstance(task, dict) and task.get("name") == "segmentation" and "threshold" in task:
        return float(task["threshold"])
    return None
