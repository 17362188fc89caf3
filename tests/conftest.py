"""Shared fixtures: fake entry points so registry tests need no real installs."""

from __future__ import annotations

import dataclasses
import textwrap
from typing import Callable

import pytest

from emkit import registry


@dataclasses.dataclass(frozen=True)
class FakeDist:
    name: str
    version: str = "1.0"


@dataclasses.dataclass(frozen=True)
class FakeEntryPoint:
    """Duck-typed ``importlib.metadata.EntryPoint`` (name, value, group, dist)."""

    name: str
    value: str
    group: str
    dist: FakeDist


FAKE_PLUGIN_SOURCE = textwrap.dedent(
    '''
    from emkit.testing.harness import TinyGenerator, TinyGeneratorConfig as TinyConfig

    class OldApiGenerator(TinyGenerator):
        api_version = 0

    class NotAGenerator:
        Config = TinyConfig

    raise_on_import = False
    '''
)


@pytest.fixture
def fake_plugins(tmp_path, monkeypatch) -> Callable[..., None]:
    """Install fake entry points: ``fake_plugins(("generator", "tiny", "mod:Cls", "dist"), ...)``.

    A module ``fake_emkit_plugins`` with ``TinyGenerator`` (valid), ``OldApiGenerator``
    and ``NotAGenerator`` is importable; ``broken_emkit_plugin`` raises on import.
    """
    (tmp_path / "fake_emkit_plugins.py").write_text(FAKE_PLUGIN_SOURCE)
    (tmp_path / "broken_emkit_plugin.py").write_text("raise ImportError('needs libfoo')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    table: dict[str, list[FakeEntryPoint]] = {}

    def install(*entries: tuple[str, str, str, str]) -> None:
        for kind, name, value, dist in entries:
            group = registry.KINDS[kind][0]
            table.setdefault(group, []).append(FakeEntryPoint(name, value, group, FakeDist(dist)))

    monkeypatch.setattr(registry, "_entry_points", lambda group: list(table.get(group, [])))
    registry.clear_cache()
    yield install
    registry.clear_cache()
