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

#: Unknown ``--options`` reach the overrides list, where ``check_option_style`` answers
#: ``--epochs 5`` with ``train.epochs=5`` instead of click's bare "No such option".
OVERRIDE_CONTEXT = {"ignore_unknown_options": True}


def check_option_style(items: list[str]) -> None:
    """Raise a one-line did-you-mean ``ConfigError`` for ``--key value`` spellings."""
    if not any(item.startswith("-") for item in items):
        return
    from emkit.config.coerce import field_types
    from emkit.config.overrides import option_style_hint
    from emkit.config.schema import PLUGIN_SECTIONS, RunConfig, TrainConfig
    from emkit.errors import ConfigError

    known = [*field_types(RunConfig), *(f"train.{k}" for k in field_types(TrainConfig)), *PLUGIN_SECTIONS]
    hint = option_style_hint(items, known)
    if hint:
        raise ConfigError(hint)


def register(app: typer.Typer) -> None:
    @app.command(
        "run",
        context_settings=OVERRIDE_CONTEXT,
        help="Train: pretext pretraining (pretext=...) or downstream fine-tuning (task=...). "
        "resume=<run dir> continues a killed run; launcher=torchrun devices=N trains with DDP.",
    )
    def run(
        overrides: Optional[list[str]] = typer.Argument(None, help=OVERRIDES_HELP),
        config: Optional[list[Path]] = typer.Option(None, "--config", "-c", help=CONFIG_HELP),
    ) -> None:
        check_option_style(overrides or [])
        from emkit.engine.launch.start import launch

        launch(overrides or [], [str(c) for c in config or []])
