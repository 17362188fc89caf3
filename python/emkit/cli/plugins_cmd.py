"""``emkit plugins list|validate|show``: what is installed and whether it works."""

from __future__ import annotations

from typing import Optional

import typer

from emkit.errors import EmkitError, PluginError


def _validate_targets(name: Optional[str]) -> list[tuple[str, str]]:
    """(kind, name) pairs for ``NAME``, ``KIND=NAME`` or everything installed."""
    from emkit import registry

    if name and "=" in name:
        kind, _, plugin = name.partition("=")
        return [(kind, plugin)]
    if name:
        targets = [(k, name) for k in registry.KINDS if name in registry.available(k)]
        if not targets:
            raise PluginError(f"No plugin named {name!r} in any group")
        return targets
    return [(k, n) for k in registry.KINDS for n in registry.available(k)]


def _check_plugin(kind: str, plugin: str, full: bool) -> list[str]:
    """Contract failures of one plugin (quick or full checks)."""
    from emkit import registry

    try:
        registry.load(kind, plugin)
        if full:
            from emkit.testing import validate_plugin

            return validate_plugin(kind, plugin)
        from emkit.testing.quick import quick_validate

        return quick_validate(kind, plugin)
    except PluginError as exc:
        return [str(exc)]


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

    @group.command(
        "validate",
        help="Check plugins; exit 1 on problems. Quick by default (import, config, construction: seconds); "
        "--full adds the training-step, determinism and checkpoint checks (minutes for all built-ins).",
    )
    def validate(
        name: Optional[str] = typer.Argument(None, help="NAME or KIND=NAME (default: all)."),
        full: bool = typer.Option(False, "--full", help="Run every contract check, including training steps."),
    ) -> None:
        from emkit.console.progress import Progress

        targets = _validate_targets(name)
        failed = 0
        with Progress(len(targets), label="validate" + (" --full" if full else ""), unit="plugin") as progress:
            for i, (kind, plugin) in enumerate(targets):
                problems = _check_plugin(kind, plugin, full)
                failed += bool(problems)
                progress.message(f"{kind}={plugin}: " + ("ok" if not problems else "FAILED: " + "; ".join(problems)))
                progress.update(i + 1, values={"failed": failed})
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
