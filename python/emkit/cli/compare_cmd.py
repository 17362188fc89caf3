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
        from emkit.report import write_report

        expanded: list[Path] = []
        for path in runs:
            if (path / "config.yaml").exists():
                expanded.append(path)
            elif path.is_dir():
                expanded += sorted(p for p in path.iterdir() if (p / "config.yaml").exists())
        if not expanded:
            from emkit.errors import EmkitError

            raise EmkitError(f"No run directories (with config.yaml) found in: {', '.join(map(str, runs))}")
        report = write_report(expanded, out)
        typer.echo(report.read_text())
        typer.echo(f"written: {report}, {out / 'report.csv'}, curves in {out}")
