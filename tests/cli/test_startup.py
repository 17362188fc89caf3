"""Light commands start without torch or plugins; help shows readable placeholders."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from run_support import run_cli

HEAVY = ("torch", "numpy", "emkit_builtin", "matplotlib", "PIL")

PROBE = """
import sys
from emkit.cli.app import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("HEAVY:" + ",".join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


def modules_after(*args: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "80"})
    line = [x for x in proc.stderr.splitlines() if x.startswith("HEAVY:")]
    assert line, proc.stderr
    return [m for m in line[-1].removeprefix("HEAVY:").split(",") if m]


@pytest.mark.parametrize("args", [("--help",), ("plugins", "list"), ("run", "--help"), ("data", "synth", "--help")])
def test_light_commands_import_no_torch(args):
    assert modules_after(*args) == []


def test_the_probe_sees_torch_when_a_command_imports_it():
    """The check above can fail: a command that needs torch shows up."""
    assert "torch" in modules_after("plugins", "show", "generator=unet", "--size", "32")


@pytest.mark.parametrize("args", [("run", "--help"), ("predict", "--help"), ("data", "synth", "--help"),
                                  ("plugins", "validate", "--help")])
def test_help_placeholders_are_readable(args, capsys):
    code, out, err = run_cli([*args], capsys)
    assert code == 0, err
    for bad in ("<bool>", "<list[str]>", "<int>", "<path>", "{model}", "{kind}"):
        assert bad not in out, (bad, out)
    usage = out.split("Usage:", 1)[1].splitlines()[0]
    assert "{" not in usage


def test_predict_usage_names_its_arguments(capsys):
    code, out, _ = run_cli(["predict", "--help"], capsys)
    assert code == 0 and "emkit predict [OPTIONS] MODEL INPUTS..." in " ".join(out.split())
    assert "TEXT..." in out and "PATH" in out


def test_synth_with_a_bad_kind_fails_before_drawing_or_writing(tmp_path, capsys):
    code, out, err = run_cli(["data", "synth", "foo", "--out", str(tmp_path / "x")], capsys)
    assert code == 2 and "Unknown synthetic kind 'foo'" in err
    assert out == "" and "sample" not in err and "eta" not in err
    assert not (tmp_path / "x").exists()
