"""``emkit run key=value ...``: resolve the config and hand it to the training engine."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

OVERRIDES_HELP = (
    "key=value overrides: plugin choices (pretext=pix2pix generator=hrnet task=segmentation "
    "data=synthetic-cem) and values (generator.blocks=4 train.epochs=5 seed=1)."
)
CONFIG_HELP = "YAML config file(s), applied in order under the command-line overrides."


def register(app: typer.Typer) -> None:
    @app.command(
        "run",
        help="Train: pretext pretraining (pretext=...) or downstream fine-tuning (task=...). "
        "resume=<run dir> continues a killed run; launcher=torchrun devices=N trains with DDP.",
    )
    def run(
        overrides: Optional[list[str]] = typer.Argument(None, help=OVERRIDES_HELP),
        config: Optional[list[Path]] = typer.Option(None, "--config", "-c", help=CONFIG_HELP),
    ) -> None:
        from emkit.engine.launch import launch

        launch(overrides or [], [str(c) for c in config or []])
