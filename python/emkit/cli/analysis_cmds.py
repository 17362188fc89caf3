"""``emkit eval``, ``emkit compare`` and ``emkit sweep``: evaluating and comparing runs."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("eval", help="Re-evaluate a run's generator on a split (default: test).")
    def eval_(
        run: Path = typer.Argument(..., help="Run directory."),
        split: str = typer.Option("test", help="train, val or test."),
        device: str = typer.Option("auto", help="auto, cpu or cuda[:N]."),
        batch_size: Optional[int] = typer.Option(None, help="Default: the run's batch size."),
        weights: str = typer.Option("final", help="final, or best (the train.keep_best weights)."),
        save_predictions: bool = typer.Option(False, "--save-predictions",
                                              help="Also write predictions (TIFF) and a worst/best overlay grid."),
    ) -> None:
        from emkit.engine.evaluate_run import evaluate_run
        from emkit.engine.per_image import evidence_dir

        metrics = evaluate_run(run, split=split, device=device, batch_size=batch_size, weights_from=weights,
                               save_predictions=save_predictions)
        typer.echo(f"per-image metrics: {evidence_dir(run, split, weights) / 'per_image.csv'}")
        for key, value in metrics.items():
            typer.echo(f"{split}_{key}: {value:.6g}")

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

    @app.command("sweep", help="Run the Cartesian product of key=a,b overrides, then compare.")
    def sweep(
        overrides: list[str] = typer.Argument(..., help="e.g. init=random,runs/pre generator.blocks=2,4 seed=0,1"),
        name: str = typer.Option("sweep", "--name", help="Folder under runs_dir for the sweep."),
        runs_dir: str = typer.Option("runs", "--runs-dir"),
        config: Optional[list[Path]] = typer.Option(None, "--config", "-c"),
    ) -> None:
        from emkit.engine.sweep import sweep as run_sweep
        from emkit.report import write_report

        paths = run_sweep(overrides, [str(c) for c in config or []], name=name, runs_dir=runs_dir)
        typer.echo(f"report: {write_report(paths, Path(runs_dir) / name / 'report')}")
