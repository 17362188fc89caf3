"""``emkit plugins list|validate|show``: what is installed and whether it works."""

from __future__ import annotations

from typing import Optional

import typer

from emkit.errors import EmkitError, PluginError


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="List, validate and inspect plugins.", no_args_is_help=True)

    @group.command("list", help="Registered plugins (reads metadata only; imports no plugin code).")
    def list_(
        load: bool = typer.Option(False, "--load", help="Also import each plugin and check it."),
    ) -> None:
        from rich.console import Console
        from rich.table import Table

        from emkit import registry

        table = Table(title="emkit plugins")
        for col in ("kind", "name", "distribution", "version", "status"):
            table.add_column(col)
        rows = registry.list_plugins(load_all=load)
        for row in rows:
            status = row.status
            style = "green" if status == "ok" else ("red" if status.startswith(("error", "conflict")) else "")
            table.add_row(
                row.spec.kind,
                row.spec.name,
                row.spec.distribution,
                row.spec.version,
                f"[{style}]{status}[/]" if style else status,
            )
        empty = [k for k in registry.KINDS if not registry.available(k)]
        console = Console(width=200) if not Console().is_terminal else Console()
        console.print(table)
        for kind in empty:
            console.print(f"{kind}: no plugins registered (group {registry.KINDS[kind][0]})")

    @group.command("validate", help="Import plugins and check their contract; exit 1 on problems.")
    def validate(
        name: Optional[str] = typer.Argument(None, help="NAME or KIND=NAME (default: all)."),
    ) -> None:
        from emkit import registry

        targets: list[tuple[str, str]] = []
        if name and "=" in name:
            kind, _, plugin = name.partition("=")
            targets.append((kind, plugin))
        elif name:
            targets = [(k, name) for k in registry.KINDS if name in registry.available(k)]
            if not targets:
                raise PluginError(f"No plugin named {name!r} in any group")
        else:
            targets = [(k, n) for k in registry.KINDS for n in registry.available(k)]
        failed = 0
        for kind, plugin in targets:
            try:
                registry.load(kind, plugin)
                from emkit.testing import validate_plugin

                problems = validate_plugin(kind, plugin)
            except PluginError as exc:
                problems = [str(exc)]
            status = "ok" if not problems else "FAILED: " + "; ".join(problems)
            failed += bool(problems)
            typer.echo(f"{kind}={plugin}: {status}")
        if failed:
            raise typer.Exit(1)

    @group.command("show", help="Build a generator from overrides and print its size and cost.")
    def show(
        overrides: Optional[list[str]] = typer.Argument(None, help="e.g. generator=unet generator.blocks=4"),
        size: int = typer.Option(256, "--size", help="Input side length for the GFLOPs count."),
    ) -> None:
        from emkit.config import resolve
        from emkit.models.summary import summarize_generator

        cfg = resolve(overrides or [], [])
        if cfg.plugin_name("generator") is None:
            raise EmkitError("No generator chosen; add generator=<name>")
        for key, value in summarize_generator(cfg, size).items():
            typer.echo(f"{key:>18}: {value}")

    app.add_typer(group, name="plugins")
