"""``emkit config show key=value ...``: print the resolved configuration as YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emkit.cli.run_cmd import CONFIG_HELP, OVERRIDES_HELP


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Inspect configurations.", no_args_is_help=True)

    @group.command("show", help="Resolve defaults, presets, YAML files and overrides; print YAML.")
    def show(
        overrides: Optional[list[str]] = typer.Argument(None, help=OVERRIDES_HELP),
        config: Optional[list[Path]] = typer.Option(None, "--config", "-c", help=CONFIG_HELP),
    ) -> None:
        from emkit.config import resolve

        typer.echo(resolve(overrides or [], config or []).to_yaml(), nl=False)

    app.add_typer(group, name="config")
