"""Fixtures of the predict tests."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from run_support import write_run


@pytest.fixture
def make_run(tmp_path) -> Callable[..., Path]:
    """``make_run(name, config, task=..., ...)`` → a run directory as training leaves it."""
    return lambda *args, **kwargs: write_run(tmp_path, *args, **kwargs)
