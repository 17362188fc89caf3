"""Registry: discovery without imports, lazy loading, isolation, duplicates, did-you-mean."""

from __future__ import annotations

import sys

import pytest

from emkit import registry
from emkit.errors import PluginError


def test_listing_does_not_import_plugin_code(fake_plugins):
    fake_plugins(("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "tinydist"))
    sys.modules.pop("fake_emkit_plugins", None)
    rows = registry.list_plugins()
    assert [(r.spec.name, r.spec.distribution, r.status) for r in rows] == [("tiny", "tinydist", "not loaded")]
    assert "fake_emkit_plugins" not in sys.modules


def test_load_returns_the_class(fake_plugins):
    fake_plugins(("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "tinydist"))
    cls = registry.load("generator", "tiny")
    assert cls.__name__ == "TinyGenerator"


def test_broken_plugin_is_reported_and_isolated(fake_plugins):
    fake_plugins(
        ("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "tinydist"),
        ("generator", "broken", "broken_emkit_plugin:Gen", "brokendist"),
    )
    with pytest.raises(PluginError) as err:
        registry.load("generator", "broken")
    msg = str(err.value)
    assert "brokendist" in msg and "broken = broken_emkit_plugin:Gen" in msg and "needs libfoo" in msg
    # The healthy plugin still loads and listing with --load marks only the broken one.
    assert registry.load("generator", "tiny").__name__ == "TinyGenerator"
    statuses = {r.spec.name: r.status for r in registry.list_plugins(load_all=True)}
    assert statuses["tiny"] == "ok" and statuses["broken"].startswith("error")


def test_duplicate_names_error_names_both_distributions(fake_plugins):
    fake_plugins(
        ("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "dist-a"),
        ("generator", "tiny", "fake_emkit_plugins:OldApiGenerator", "dist-b"),
    )
    with pytest.raises(PluginError) as err:
        registry.load("generator", "tiny")
    assert "dist-a" in str(err.value) and "dist-b" in str(err.value)
    assert all(r.status.startswith("conflict") for r in registry.list_plugins())


def test_same_distribution_twice_is_not_a_conflict(fake_plugins):
    fake_plugins(
        ("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "dist-a"),
        ("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "dist-a"),
    )
    assert registry.load("generator", "tiny").__name__ == "TinyGenerator"


def test_unknown_name_suggests_the_closest(fake_plugins):
    fake_plugins(
        ("generator", "hrnet", "fake_emkit_plugins:TinyGenerator", "emkit"),
        ("generator", "unet", "fake_emkit_plugins:TinyGenerator", "emkit"),
    )
    with pytest.raises(PluginError) as err:
        registry.load("generator", "hrnett")
    assert str(err.value) == (
        "Unknown generator 'hrnett'. Did you mean 'hrnet'? Available: hrnet (emkit), unet (emkit)"
    )


def test_unknown_name_with_empty_group(fake_plugins):
    with pytest.raises(PluginError, match="No pretext plugins are installed"):
        registry.load("pretext", "pix2pix")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("fake_emkit_plugins:OldApiGenerator", "API version 0"),
        ("fake_emkit_plugins:NotAGenerator", "not a subclass"),
        ("fake_emkit_plugins:Missing", "AttributeError"),
    ],
)
def test_contract_violations_are_reported(fake_plugins, value, problem):
    fake_plugins(("generator", "bad", value, "baddist"))
    with pytest.raises(PluginError, match=problem):
        registry.load("generator", "bad")


def test_unknown_kind():
    with pytest.raises(PluginError, match="Unknown plugin kind"):
        registry.discover("widgets")


@pytest.mark.parametrize(("source", "cause"), [
    ("import sys\nsys.exit(3)\n", "called sys.exit(3) while importing"),
    ("raise SystemExit\n", "called sys.exit(None)"),
    ("class Boom(BaseException):\n    pass\nraise Boom('custom base exception')\n", "Boom: custom base exception"),
    ("raise RuntimeError('multi\\nline')\n", "RuntimeError: multi line"),
])
def test_plugins_that_exit_at_import_are_reported_per_distribution(fake_plugins, tmp_path, monkeypatch, source,
                                                                     cause):
    """``sys.exit()`` or any BaseException at import fails that plugin only (KeyboardInterrupt aside)."""
    (tmp_path / "exiting_emkit_plugin.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    fake_plugins(
        ("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "tinydist"),
        ("generator", "quitter", "exiting_emkit_plugin:Gen", "quitterdist"),
    )
    with pytest.raises(PluginError) as err:
        registry.load("generator", "quitter")
    assert "quitterdist" in str(err.value) and cause in str(err.value) and "\n" not in str(err.value)
    rows = {row.spec.name: row.status for row in registry.list_plugins(["generator"], load_all=True)}
    assert rows["tiny"] == "ok" and rows["quitter"].startswith("error:")


def test_keyboard_interrupt_at_import_is_not_swallowed(fake_plugins, tmp_path, monkeypatch):
    (tmp_path / "interrupting_emkit_plugin.py").write_text("raise KeyboardInterrupt\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    fake_plugins(("generator", "ctrlc", "interrupting_emkit_plugin:Gen", "ctrlcdist"))
    with pytest.raises(KeyboardInterrupt):
        registry.load("generator", "ctrlc")
