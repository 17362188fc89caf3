"""``emkit plugins validate``: quick (import, config, construction) by default, all checks with --full."""

from __future__ import annotations

import textwrap

import pytest

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


@pytest.mark.parametrize("plugin, code, needle", [
    ("tiny", 0, "generator=tiny: ok"),
    ("nobuild", 1, "construction: RuntimeError: cannot allocate the flux capacitor"),
    ("wrongsize", 0, "generator=wrongsize: ok"),  # the behavioural checks are not part of the quick mode
])
def test_quick_mode_builds_each_plugin(fake_plugins, tmp_path, capsys, plugin, code, needle):
    _install(fake_plugins, tmp_path)
    result = run_cli(["plugins", "validate", f"generator={plugin}"], capsys)
    assert result[0] == code and needle in result[1]


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
