"""``emkit config show key=value ...``: print the resolved configuration as YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emkit.cli.run_cmd import CONFIG_HELP, OVERRIDE_CONTEXT, OVERRIDES_HELP
from emkit.config.overrides import check_option_style


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Inspect configurations.", no_args_is_help=True)

    @group.command("show", help="Resolve defaults, presets, YAML files and overrides; print YAML.",
                   context_settings=OVERRIDE_CONTEXT)
    def show(
        overrides: Optional[list[str]] = typer.Argument(None, help=OVERRIDES_HELP),
        config: Optional[list[Path]] = typer.Option(None, "--config", "-c", help=CONFIG_HELP),
    ) -> None:
        check_option_style(overrides or [])
        from emkit.config import resolve
        from emkit.errors import print_warning

        cfg = resolve(overrides or [], config or [])
        for line in cfg.warnings:
            print_warning(line)
        typer.echo(cfg.to_yaml(), nl=False)

    app.add_typer(group, name="config")
