"""``emkit.compare(runs)``: the tables of ``emkit compare`` as data, Markdown and figures.

``runs`` is a list of run folders or ``Run`` objects, or one folder holding runs (a sweep
folder): every sub-folder with a config.yaml is taken. The result is
``emkit.report.Comparison``: ``rows`` (one per cell: objective, model, init, train items,
metric, epoch, mean, std, min, max, n), ``pairs`` (paired P − R per seed with how many
seeds favoured P), ``baselines`` (identity / all-background / all-foreground on the same
test split), ``to_markdown()``, ``figures(out)`` and ``write(out)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Union

from emkit.api.run import Run
from emkit.errors import EmkitError

RunsArg = Union[str, Path, Run, Iterable[Union[str, Path, Run]]]


def run_folders(runs: RunsArg) -> list[Path]:
    """Run folders from ``runs`` (folders of runs expanded); one error when none is found."""
    items = [runs] if isinstance(runs, (str, Path, Run)) else list(runs)
    found: list[Path] = []
    for item in items:
        path = item.path if isinstance(item, Run) else Path(item)
        if (path / "config.yaml").exists():
            found.append(path)
        elif path.is_dir():
            found += sorted(p for p in path.iterdir() if (p / "config.yaml").exists())
    if not found:
        shown = ", ".join(str(i.path if isinstance(i, Run) else i) for i in items) or "(nothing)"
        raise EmkitError(f"No run directories (with config.yaml) found in: {shown}")
    return found


def compare(runs: RunsArg, *, baselines: bool = True) -> Any:
    """The comparison of ``runs`` (see the module docstring); ``baselines=False`` skips the trivial rows."""
    from emkit.report import compare_runs

    return compare_runs(run_folders(runs), baselines=baselines)
