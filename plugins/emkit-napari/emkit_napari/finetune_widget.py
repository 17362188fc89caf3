"""The fine-tune widget: image + labels (or target) layers, or a folder → an emkit run directory.

Choose the task, the data (two layers, or a ``mask-folder``/``paired-folder`` dataset
folder), where the weights start (``random``, ``self`` = pretrain on these images first,
or a run directory), a few epochs and where runs go; *Train* runs ``emkit run`` in a
napari worker thread (``finetune_core``). The loss and validation curves update after
every step, the progress bar counts steps, *Cancel* stops after the current step and
keeps the run's last checkpoint. The finished run is a normal run directory: the status
line names it, and the predict widget (or ``emkit predict``) takes it as its model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import numpy as np
from qtpy.QtCore import QObject, Signal
from qtpy.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QSpinBox,
                            QVBoxLayout, QWidget)

from emkit_napari import finetune_core as core
from emkit_napari.curve_plot import CurvePlot
from emkit_napari.qt_parts import LayerCombo, WorkerWidget

#: Tasks the widget offers (when installed): segmentation from labels, restoration from a target image.
TASKS = ("segmentation", "denoise", "background-removal", "super-resolution")
LABEL_MODES = {"foreground (label > 0)": "foreground", "class ids (0 = background)": "classes"}


class _Relay(QObject):
    """Metrics rows from the training thread to the GUI thread (a queued signal)."""

    metrics = Signal(object, str, int, int)


class FinetuneWidget(WorkerWidget):
    """napari dock widget; ``done`` fires with the run directory (or the error text)."""

    def __init__(self, napari_viewer: Any) -> None:
        from napari.layers import Image, Labels

        super().__init__(napari_viewer, "Train", "choose the data and press Train", "cancelling after the current step …")
        self.last_run: Optional[Path] = None
        self._relay = _Relay()
        self._relay.metrics.connect(self._on_metrics)
        self.curves = core.Curves()
        self.image = LayerCombo(napari_viewer, (Image,))
        self.partner = LayerCombo(napari_viewer, (Labels, Image))
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("or a dataset folder with image/ + mask/ (or target/)")
        self.task, self.label_mode, self.generator, self.device = QComboBox(), QComboBox(), QComboBox(), QComboBox()
        self.init = QComboBox()
        self._fill_choices()
        self.epochs, self.patch = QSpinBox(), QSpinBox()
        self.epochs.setRange(1, 10000)
        self.epochs.setValue(5)
        self.patch.setRange(32, 4096)
        self.patch.setSingleStep(16)
        self.patch.setValue(128)
        self.runs_dir, self.name = QLineEdit(str(Path.cwd() / "runs")), QLineEdit()
        self.name.setPlaceholderText("(default: <time>-<task>-napari)")
        self.extra = QLineEdit()
        self.extra.setPlaceholderText("more key=value settings, e.g. train.batch_size=4 generator.width=8")
        self.loss_plot = CurvePlot("loss", "step", "loss")
        self.metric_plot = CurvePlot("validation metric", "step", "value")
        self.metric_choice = QComboBox()
        self.metric_choice.currentTextChanged.connect(self._redraw)
        self._layout()
        self.wire_buttons()

    def _fill_choices(self) -> None:
        from emkit import registry

        self.task.addItems([t for t in TASKS if t in registry.available("task")])
        self.label_mode.addItems(list(LABEL_MODES))
        generators = registry.available("generator")
        self.generator.addItems(generators)
        if "unet" in generators:
            self.generator.setCurrentText("unet")
        self.device.addItems(["auto", "cpu", "cuda"])
        self.init.setEditable(True)
        self.init.addItems(["random", "self"])

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Task", self.task)
        form.addRow("Image layer", self.image)
        form.addRow("Labels / target", self.partner)
        form.addRow("Labels are", self.label_mode)
        form.addRow("Dataset folder", _with_button(self.folder, "…", self._browse_folder))
        form.addRow("Start from", _with_button(self.init, "Run…", self._browse_init))
        form.addRow("Generator", self.generator)
        form.addRow("Epochs", self.epochs)
        form.addRow("Patch / crop (px)", self.patch)
        form.addRow("Device", self.device)
        form.addRow("Runs folder", _with_button(self.runs_dir, "…", self._browse_runs))
        form.addRow("Run name", self.name)
        form.addRow("Settings", self.extra)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        self.status.setWordWrap(True)
        box = QVBoxLayout(self)
        for part in (form, buttons):
            box.addLayout(part)
        for widget in (self.progress, self.status, self.loss_plot, self.metric_choice, self.metric_plot):
            box.addWidget(widget)

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "dataset folder (image/ + mask/ or target/)")
        if path:
            self.folder.setText(path)

    def _browse_init(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "emkit run to start from")
        if path:
            self.init.setCurrentText(path)

    def _browse_runs(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "folder for emkit runs")
        if path:
            self.runs_dir.setText(path)

    # -- running ------------------------------------------------------------------
    def request(self) -> core.FinetuneRequest:
        """The run the widget describes (layers are read here, in the GUI thread)."""
        image, partner = self.image.layer(), self.partner.layer()
        folder = self.folder.text().strip() or None
        return core.FinetuneRequest(
            task=self.task.currentText(), folder=folder,
            image=None if folder or image is None else _pixels(image),
            partner=None if folder or partner is None else _pixels(partner),
            names=(image.name if image else "image", partner.name if partner else "labels"),
            label_mode=LABEL_MODES[self.label_mode.currentText()], init=self.init.currentText().strip() or "random",
            generator=self.generator.currentText(), epochs=self.epochs.value(), patch=self.patch.value(),
            runs_dir=self.runs_dir.text().strip() or "runs", name=self.name.text().strip(),
            device=self.device.currentText(), extra=self.extra.text())

    def start(self) -> None:
        req = self.request()
        self.curves = core.Curves()
        self.metric_choice.clear()
        self._redraw()

        def work() -> Path:
            return core.run_finetune(req, self._relay.metrics.emit, lambda: self._stop)

        self.run_in_worker(f"training {req.task} ({req.init}) …", work, self._finished)

    def _on_metrics(self, rows: list, stage: str, step: int, total: int) -> None:
        self.curves.add(rows, stage)
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(step)
        self.progress.setFormat(("pretext stage " if stage == "pretrain" else "") + "step %v / %m")
        self._redraw()

    def _redraw(self, *_: Any) -> None:
        """Both plots; the metric plot shows the metric chosen above it (scales differ: dB, 0-1)."""
        for name in self.curves.metrics:
            if self.metric_choice.findText(name) < 0:
                self.metric_choice.addItem(name)
        chosen = self.metric_choice.currentText()
        self.loss_plot.set_series(self.curves.loss)
        self.metric_plot.ylabel = chosen or "value"
        self.metric_plot.set_series({chosen: self.curves.metrics[chosen]} if chosen in self.curves.metrics else {})

    def _finished(self, run_dir: Path) -> None:
        self.last_run = run_dir
        self.status.setText(f"done: {run_dir} (use it in the Predict widget or with emkit predict)")
        self.done.emit(run_dir)


def _pixels(layer: Any) -> np.ndarray:
    """A copy of the layer's full-resolution pixels (painting may go on while training starts)."""
    data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data
    return np.array(data)


def _with_button(field: QWidget, label: str, action: Any) -> QWidget:
    """``field`` with a small button beside it (a browse button)."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    button = QPushButton(label)
    button.clicked.connect(action)
    layout.addWidget(field, 1)
    layout.addWidget(button)
    return row
