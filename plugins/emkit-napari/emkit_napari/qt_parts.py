"""Qt pieces shared by the widgets: a layer chooser, a worker runner, a message line.

``WorkerWidget`` is the base of both dock widgets: Run / Cancel buttons, a progress bar
and a status line around one job at a time in a worker thread. ``LayerCombo`` lists the viewer's layers of some types and follows additions, removals
and renames. ``start_worker`` runs a function in a napari worker thread
(``napari.qt.threading``) and routes its result or its error back to the GUI thread.
Errors are caught inside the thread and handed over as values, so the user sees one
line -- emkit's own message (``EmkitError``) as it is, anything else with its type name
(and its traceback on stderr, for bug reports) -- in the widget's status line and as a
napari notification, instead of a traceback dialog.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable, Optional

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QComboBox, QLabel, QProgressBar, QPushButton, QWidget


class WorkerWidget(QWidget):
    """One job at a time in a worker thread; ``done`` fires with its result (or the error text).

    Subclasses build their controls, call ``wire_buttons()`` and start a job with
    ``run_in_worker``; the job polls ``self._stop`` (set by *Cancel*).
    """

    done = Signal(object)

    def __init__(self, viewer: Any, run_label: str, idle_text: str, cancel_text: str) -> None:
        super().__init__()
        self.viewer = viewer
        self.worker: Optional[Any] = None
        self._stop = False
        self._cancel_text = cancel_text
        self.run_button, self.cancel_button = QPushButton(run_label), QPushButton("Cancel")
        self.progress, self.status = QProgressBar(), QLabel(idle_text)

    def wire_buttons(self) -> None:
        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)

    def start(self) -> None:  # pragma: no cover - every widget overrides it
        raise NotImplementedError

    def run_in_worker(self, text: str, work: Callable[[], Any], on_result: Callable[[Any], None]) -> None:
        self._stop = False
        self._set_running(True, text)
        self.worker = start_worker(work, on_result, self._failed, lambda: self._set_running(False))

    def cancel(self) -> None:
        self._stop = True
        self.status.setText(self._cancel_text)

    def _set_running(self, running: bool, text: str = "") -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setValue(0)
            self.status.setText(text)
        else:
            self.worker = None

    def _failed(self, exc: BaseException) -> None:
        self.done.emit(show_error(self.status, exc))


class LayerCombo(QComboBox):
    """The viewer's layers of ``kinds`` (napari layer classes) by name; ``layer()`` is the choice."""

    def __init__(self, viewer: Any, kinds: tuple[type, ...], allow_none: bool = False) -> None:
        super().__init__()
        self.viewer, self.kinds, self.allow_none = viewer, kinds, allow_none
        events = viewer.layers.events
        for event in (events.inserted, events.removed, events.moved, events.reordered):
            event.connect(self.refresh)
        self.refresh()

    def refresh(self, *_: Any) -> None:
        current = self.currentText()
        self.blockSignals(True)
        self.clear()
        if self.allow_none:
            self.addItem("")
        for layer in self.viewer.layers:
            if isinstance(layer, self.kinds):
                self.addItem(layer.name)
                layer.events.name.connect(self.refresh)
        index = self.findText(current)
        self.setCurrentIndex(index if index >= 0 else (0 if self.count() else -1))
        self.blockSignals(False)

    def layer(self) -> Optional[Any]:
        name = self.currentText()
        return self.viewer.layers[name] if name and name in self.viewer.layers else None

    def select(self, name: str) -> None:
        self.setCurrentIndex(self.findText(name))


def describe_error(exc: BaseException) -> str:
    from emkit import EmkitError

    return str(exc) if isinstance(exc, EmkitError) else f"{type(exc).__name__}: {exc}"


def show_error(status: QLabel, exc: BaseException) -> str:
    """Write ``exc`` into ``status`` and napari's notifications; return the text."""
    from napari.utils.notifications import show_error as notify

    text = describe_error(exc)
    status.setText(text)
    notify(text)
    return text


def start_worker(fn: Callable[..., Any], on_result: Callable[[Any], None],
                 on_error: Callable[[BaseException], None], on_finished: Callable[[], None]) -> Any:
    """Run ``fn()`` in a napari worker thread; the callbacks run in the GUI thread."""
    from napari.qt.threading import create_worker

    def guarded() -> tuple[bool, Any]:
        try:
            return True, fn()
        except Exception as exc:  # noqa: BLE001 - the thread boundary: every failure becomes a message
            from emkit import EmkitError

            if not isinstance(exc, EmkitError):
                traceback.print_exception(exc)
            return False, exc

    def route(outcome: tuple[bool, Any]) -> None:
        ok, value = outcome
        (on_result if ok else on_error)(value)

    worker = create_worker(guarded, _start_thread=False)
    worker.returned.connect(route)
    worker.finished.connect(on_finished)
    worker.start()
    return worker
