"""The plugin's shape: the logic lives in Qt-free modules that never import Qt or napari."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "emkit_napari"
QT_FREE = ("reader", "sample_data", "predict_core", "package_model", "finetune_core")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_logic_modules_do_not_import_qt_or_napari() -> None:
    for name in QT_FREE:
        gui = imported(PACKAGE / f"{name}.py") & {"qtpy", "PyQt5", "PyQt6", "PySide6", "napari", "magicgui"}
        assert not gui, f"{name}.py imports {sorted(gui)}"


def test_every_module_is_accounted_for() -> None:
    widgets = {"predict_widget", "finetune_widget", "curve_plot", "qt_parts", "__init__"}
    assert {p.stem for p in PACKAGE.glob("*.py")} == set(QT_FREE) | widgets
