"""Driving a docked widget as a user does: click Run, wait for its ``done`` signal and for
its worker to finish; imported by the widget tests (this folder is on their path)."""

from __future__ import annotations

from typing import Any

#: Long enough for a tiny training on a loaded 2-core machine.
TIMEOUT_MS = 300_000


def run_to_end(qtbot, widget) -> Any:  # noqa: ANN001
    """Click ``widget``'s run button; return what its ``done`` signal carried."""
    with qtbot.waitSignal(widget.done, timeout=TIMEOUT_MS) as blocker:
        widget.run_button.click()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=TIMEOUT_MS)
    return blocker.args[0]
