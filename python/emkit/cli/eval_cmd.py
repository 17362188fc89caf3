"""``emkit eval``: re-evaluate a run's generator on a split, with per-image evidence."""

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
        from emkit.api import evaluate, evidence_dir

        metrics = evaluate(run, split=split, device=device, batch_size=batch_size, weights=weights,
                           save_predictions=save_predictions)
        typer.echo(f"per-image metrics: {evidence_dir(run, split, weights) / 'per_image.csv'}")
        for key, value in metrics.items():
            typer.echo(f"{split}_{key}: {value:.6g}")
