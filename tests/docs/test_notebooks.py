"""docs/notebooks/*.ipynb run end to end (nbclient, a real Jupyter kernel), so they never rot.

Each notebook runs in a fresh temporary folder (its runs and exports land there); a cell
that raises fails the test with the cell's source and the error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "docs" / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_end_to_end(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbclient  # the test extra installs them: a missing one fails, it never skips
    import nbformat

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert list(tmp_path.glob("runs-quickstart/*/generator.safetensors")), "the notebook trained no run"
    assert list(tmp_path.glob("runs-quickstart/**/*.bioimageio.zip")), "the notebook exported no package"


def test_there_is_a_quickstart() -> None:
    assert ROOT / "docs" / "notebooks" / "quickstart.ipynb" in NOTEBOOKS
