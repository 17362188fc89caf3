"""``emkit plugins validate``: quick (import, config, construction) by default, all checks with --full."""

from __future__ import annotations

import textwrap

from run_support import run_cli

EXTRA = textwrap.dedent(
    """
    import torch
    from fake_emkit_plugins import TinyGenerator

    class FailsToBuild(TinyGenerator):
        def __init__(self, config):
            raise RuntimeError("cannot allocate the flux capacitor")

    class WrongSize(TinyGenerator):
        def forward(self, x):
            return super().forward(x)[..., 1:, :]  # builds fine, breaks the size contract
    """
)


def _install(fake_plugins, tmp_path):
    (tmp_path / "extra_emkit_plugins.py").write_text(EXTRA)
    fake_plugins(
        ("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "tinydist"),
        ("generator", "nobuild", "extra_emkit_plugins:FailsToBuild", "tinydist"),
        ("generator", "wrongsize", "extra_emkit_plugins:WrongSize", "tinydist"),
    )


def test_quick_mode_builds_each_plugin(fake_plugins, tmp_path, capsys):
    _install(fake_plugins, tmp_path)
    code, out, _ = run_cli(["plugins", "validate", "generator=tiny"], capsys)
    assert code == 0 and "generator=tiny: ok" in out
    code, out, _ = run_cli(["plugins", "validate", "generator=nobuild"], capsys)
    assert code == 1 and "construction: RuntimeError: cannot allocate the flux capacitor" in out
    # the behavioural checks are not part of the quick mode...
    code, out, _ = run_cli(["plugins", "validate", "generator=wrongsize"], capsys)
    assert code == 0 and "generator=wrongsize: ok" in out


def test_full_mode_runs_the_behaviour_checks(fake_plugins, tmp_path, capsys):
    _install(fake_plugins, tmp_path)
    code, out, _ = run_cli(["plugins", "validate", "generator=wrongsize", "--full"], capsys)
    assert code == 1 and "behaviour:" in out and "output size must equal input size" in out


def test_all_plugins_show_progress_with_eta(fake_plugins, tmp_path, capsys):
    _install(fake_plugins, tmp_path)
    code, out, _ = run_cli(["plugins", "validate"], capsys)
    assert code == 1  # nobuild fails
    assert "validate plugin 3/3" in out and "failed 1" in out
    assert "validate plugin 1/3" in out and "eta" in out
