"""``emkit run key=value ...``: resolve the config and hand it to the training engine."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emkit.errors import EmkitError

OVERRIDES_HELP = (
    "key=value overrides: plugin choices (pretext=pix2pix generator=hrnet task=segmentation "
    "data=synthetic-cem) and values (generator.blocks=4 train.epochs=5 seed=1)."
)
CONFIG_HELP = "YAML config file(s), applied in order under the command-line overrides."


def register(app: typer.Typer) -> None:
    @app.command(
        "run",
        help="Train: pretext pretraining (pretext=...) or downstream fine-tuning (task=...).",
    )
    def run(
        overrides: Optional[list[str]] = typer.Argument(None, help=OVERRIDES_HELP),
        config: Optional[list[Path]] = typer.Option(None, "--config", "-c", help=CONFIG_HELP),
    ) -> None:
        from emkit.config import resolve

        cfg = resolve(overrides or [], config or [])
        if cfg.plugin_name("pretext") is None and cfg.plugin_name("task") is None:
            from emkit import registry

            pretexts = ", ".join(registry.available("pretext")) or "none installed"
            tasks = ", ".join(registry.available("task")) or "none installed"
            raise EmkitError(
                "Nothing to train: choose a pretext (pretext=<name>; available: "
                f"{pretexts}) or a task (task=<name>; available: {tasks})"
            )
        try:
            from emkit.engine.launch import launch
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("emkit.engine"):
                raise EmkitError("The training engine is not part of this emkit build yet") from exc
            raise
        launch(cfg, overrides=overrides or [], config_files=[str(c) for c in config or []])
