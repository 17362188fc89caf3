"""The ``emkit`` command line (typer + rich).

Sub-commands live in their own modules and register on ``app`` here. ``main`` turns
every ``EmkitError`` into one red line on stderr and exit code 2 -- users never see a
traceback for bad input (set ``EMKIT_DEBUG=1`` to get one).
"""

from __future__ import annotations

import os
import sys

import typer

from emkit.errors import EmkitError, print_error
from emkit.oserrors import as_user_errors

app = typer.Typer(
    name="emkit",
    help="Self-supervised GAN pretraining and fine-tuning for electron-microscopy images.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


#: Modules with a ``register(app)`` function, added as they land.
OPTIONAL_COMMANDS: tuple[str, ...] = (
    "emkit.cli.data_cmd",
    "emkit.cli.predict_cmd",
    "emkit.cli.export_cmd",
)


def _register() -> None:
    from emkit.cli import analysis_cmds, config_cmd, plugins_cmd, run_cmd

    run_cmd.register(app)
    analysis_cmds.register(app)
    config_cmd.register(app)
    plugins_cmd.register(app)
    # Command groups added by later modules (data, predict, ...); each is optional so a
    # partial build still has a working CLI.
    for module in OPTIONAL_COMMANDS:
        try:
            mod = __import__(module, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        mod.register(app)


_register()


def report_error(exc: BaseException) -> None:
    """Print a user-facing error as one plain-text line on stderr (no markup)."""
    print_error(exc)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point.

    typer's standalone mode handles usage errors (bad options) itself; emkit's own
    errors are caught here and printed as one line.
    """
    try:
        with as_user_errors():  # OS failures (disk full, read-only, ...) become one line
            app(args=argv, prog_name="emkit", standalone_mode=True)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    except EmkitError as exc:
        if os.environ.get("EMKIT_DEBUG"):
            raise
        report_error(exc)
        sys.exit(2)
    except KeyboardInterrupt:
        report_error(KeyboardInterrupt("interrupted"))
        sys.exit(130)
