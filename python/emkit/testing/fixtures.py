"""pytest helpers for emkit's own tests and plugin test suites (imports pytest).

* ``one_thread``: an autouse fixture -- import it into a ``conftest.py`` or a test module
  (``from emkit.testing.fixtures import one_thread``) to run the tests there with one
  intra-op torch thread; small tensors gain nothing from more, and on a busy machine
  threads waiting for each other slow a suite down several times.
* ``run_emkit(*args, cwd=...)``: the ``emkit`` command in a subprocess (a real process:
  entry points, signals, torchrun), single-threaded, output captured.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator, Mapping

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One intra-op torch thread for the test; the previous setting is restored after it."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run_emkit(*args: str, cwd: str | Path, env: Mapping[str, str] | None = None, timeout: float = 300,
              check: bool = False) -> subprocess.CompletedProcess:
    """``python -m emkit ARGS`` in ``cwd`` with ``OMP_NUM_THREADS=1`` (plus ``env``).

    With ``check`` a non-zero exit fails the test, showing the end of stderr and stdout.
    """
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "emkit", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-2000:]
    return proc
