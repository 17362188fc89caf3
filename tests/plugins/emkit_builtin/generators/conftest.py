"""Run the generator tests single-threaded.

Their tensors are small, so a second intra-op thread gains little, while on a busy
2-core machine OpenMP threads waiting for each other made the suite several times
slower. The previous setting is restored after each test.
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
