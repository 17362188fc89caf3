"""The CLI through typer's CliRunner and through a real subprocess."""

from __future__ import annotations

import subprocess
import sys

import yaml
from typer.testing import CliRunner

from emkit.cli.app import app, main


def invoke(args, capsys=None):
    return CliRunner().invoke(app, args)


def test_help_lists_commands():
    result = invoke(["--help"])
    assert result.exit_code == 0
    for cmd in ("run", "config", "plugins"):
        assert cmd in result.output


def test_config_show_prints_yaml(fake_plugins):
    fake_plugins(("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "tinydist"))
    result = invoke(["config", "show", "generator=tiny", "train.epochs=3"])
    assert result.exit_code == 0, result.output
    tree = yaml.safe_load(result.output)
    assert tree["train"]["epochs"] == 3 and tree["generator"]["name"] == "tiny"


def test_main_turns_errors_into_one_line(fake_plugins, capsys):
    fake_plugins(("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "tinydist"))
    try:
        main(["config", "show", "generator=tiny", "generator.width=notanint"])
    except SystemExit as exc:
        assert exc.code == 2
    else:  # pragma: no cover
        raise AssertionError("expected exit 2")
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "generator.width" in err and "expected int" in err and "Traceback" not in err


def test_run_without_objective_says_what_is_missing(fake_plugins, capsys):
    fake_plugins(("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "tinydist"))
    try:
        main(["run", "generator=tiny"])
    except SystemExit as exc:
        assert exc.code == 2
    err = capsys.readouterr().err
    assert "Nothing to train" in err and "pretext=<name>" in err


def test_plugins_list_and_validate(fake_plugins):
    fake_plugins(
        ("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "tinydist"),
        ("generator", "broken", "broken_emkit_plugin:Gen", "brokendist"),
    )
    listed = invoke(["plugins", "list"])
    assert listed.exit_code == 0
    assert "tiny" in listed.output and "tinydist" in listed.output and "broken" in listed.output
    ok = invoke(["plugins", "validate", "generator=tiny"])
    assert ok.exit_code == 0 and "generator=tiny: ok" in ok.output
    bad = invoke(["plugins", "validate", "generator=broken"])
    assert bad.exit_code == 1 and "needs libfoo" in bad.output


def test_plugins_show_reports_size(fake_plugins):
    fake_plugins(("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "tinydist"))
    result = invoke(["plugins", "show", "generator=tiny", "--size", "32"])
    assert result.exit_code == 0, result.output
    assert "receptive field" in result.output and "5 px" in result.output and "GFLOPs @ 32x32" in result.output


def test_console_script_bad_key_exits_2():
    proc = subprocess.run(
        [sys.executable, "-m", "emkit", "config", "show", "nosuchkey=1"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "Unknown config key 'nosuchkey'" in proc.stderr
    assert "Traceback" not in proc.stderr
