"""``emkit sweep``: the Cartesian product of ``key=a,b`` overrides, run resumably, then compared."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("sweep", help="Run the Cartesian product of key=a,b overrides, then compare.")
    def sweep(
        overrides: list[str] = typer.Argument(..., help="e.g. init=random,runs/pre generator.blocks=2,4 seed=0,1"),
        name: str = typer.Option("sweep", "--name", help="Folder under runs_dir for the sweep."),
        runs_dir: str = typer.Option("runs", "--runs-dir"),
        config: Optional[list[Path]] = typer.Option(None, "--config", "-c"),
    ) -> None:
        from emkit.api import compare, sweep

        runs = sweep(*overrides, name=name, runs_dir=runs_dir, config=[str(c) for c in config or []])
        typer.echo(f"report: {compare(runs).write(Path(runs_dir) / name / 'report')}")
