"""``emkit compare``: paper-style tables (Markdown + CSV) and curves from finished runs."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("compare", help="Tables (Markdown + CSV) and curves comparing finished runs.")
    def compare(
        runs: list[Path] = typer.Argument(..., help="Run directories (a folder of runs is expanded)."),
        out: Path = typer.Option(Path("report"), "--out", help="Output folder."),
    ) -> None:
        from emkit.api import compare as compare_runs

        report = compare_runs(runs).write(out)
        typer.echo(report.read_text())
        typer.echo(f"written: {report}, {out / 'report.csv'}, curves in {out}")
