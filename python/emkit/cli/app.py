"""The ``emkit`` command line (typer + rich).

Sub-commands live in their own modules and register on ``app`` here. ``main`` turns
every ``EmkitError`` into one plain-text line on stderr and exit code 2 -- users never see a
traceback for bad input (set ``EMKIT_DEBUG=1`` to get one).

Start-up stays fast (``emkit --help``, ``emkit plugins list``): the command modules
import only typer at module level; torch, numpy, plugins and the engine are imported
inside the commands that need them (``tests/cli/test_startup.py`` checks this,
``benchmarks/throughput/bench_cli_startup.py`` measures it).
"""

from __future__ import annotations

import os
import sys

import typer

from emkit.cli import (compare_cmd, config_cmd, data_cmd, eval_cmd, export_cmd, plugins_cmd, predict_cmd, run_cmd,
                       sweep_cmd)
from emkit.cli.help_style import ReadableGroup
from emkit.errors import EmkitError, print_error
from emkit.storage.oserrors import as_user_errors

app = typer.Typer(
    name="emkit",
    help="Self-supervised GAN pretraining and fine-tuning for electron-microscopy images.",
    cls=ReadableGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (run_cmd, eval_cmd, compare_cmd, sweep_cmd, config_cmd, plugins_cmd, data_cmd, predict_cmd, export_cmd):
    _module.register(app)


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
