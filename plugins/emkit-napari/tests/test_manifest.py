"""The npe2 manifest validates and names importable contributions."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def npe2_command() -> list[str]:
    exe = Path(sys.executable).with_name("npe2")
    return [str(exe)] if exe.exists() else [shutil.which("npe2") or "npe2"]


def test_npe2_validate_passes() -> None:
    result = subprocess.run([*npe2_command(), "validate", "emkit-napari", "--imports"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout


def test_emkit_itself_does_not_pull_napari_or_qt() -> None:
    """`pip install emkit` stays free of Qt and napari: none in its requirements."""
    from importlib.metadata import requires

    needs = " ".join(requires("emkit") or []).lower()
    assert not any(name in needs for name in ("napari", "qt", "pyside", "magicgui"))
