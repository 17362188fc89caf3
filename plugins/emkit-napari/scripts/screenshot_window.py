"""What both screenshot scripts do with a docked widget: run it to the end, then save the
whole napari window at a fixed size (imported by screenshot_finetune.py and
screenshot_predict.py, which run from this folder)."""

from __future__ import annotations

from pathlib import Path


def run_to_end(widget) -> None:  # noqa: ANN001
    """Click the widget's run button and process Qt events until its worker has finished."""
    from qtpy.QtWidgets import QApplication

    finished: list = []
    widget.done.connect(finished.append)
    widget.run_button.click()
    while not finished or widget.worker is not None:
        QApplication.processEvents()


def save_window(viewer, widget, out: Path, height: int) -> None:  # noqa: ANN001
    """Resize the window to 1400 × ``height``, let it repaint, save it to ``out`` and close it."""
    from qtpy.QtWidgets import QApplication

    viewer.window._qt_window.resize(1400, height)
    for _ in range(20):
        QApplication.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(str(out), canvas_only=False)
    print(f"{out}: {widget.status.text()}")
    viewer.close()
