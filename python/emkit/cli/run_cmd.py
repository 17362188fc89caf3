"""``emkit run key=value ...``: ``emkit.train`` with the command line's words and the progress line."""

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
        from emkit.api import train

        run = train(*(overrides or []), config=[str(c) for c in config or []])
        if run is not None and run.stopped:
            from emkit.errors import EmkitError

            raise EmkitError(run.stop_reason or f"stopped; continue with: emkit run resume={run.path}")
        if run is not None and (hint := next_step_hint(run.config, run.path)):
            typer.echo(hint)


def next_step_hint(config: dict, path: Path) -> str | None:
    """After a pretext run: how to fine-tune its generator, and what it measurably helps.

    The measured part (docs/training.md, "Which pretext and init for which task"): a
    generator from a short pretext run -- the bare main job's 180 steps -- gave restoration
    tasks an early lead but started segmentation behind random init (3 seeds, every fix tried),
    so a user deciding what to do with it should hear that before spending a fine-tuning run."""
    if not isinstance(config.get("pretext"), dict):  # a task run's config.yaml has no pretext section
        return None
    return (f"next: fine-tune this generator with `emkit run task=<task> init={path} data=...`. Measured on "
            "emkit's synthetic tasks, the bare `emkit run pretext=pix2pix generator=hrnet` (180 steps) gave "
            "restoration an early lead, but segmentation started behind random init (with a fresh head, "
            "`task.head_init=reset`, it led from 90 steps): docs/training.md, \"Which pretext and init for which "
            "task\".")
