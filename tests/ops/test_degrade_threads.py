"""The CPU work pool: results independent of threads, usable in forked workers, reentrant."""

from __future__ import annotations

import os
import pickle
import sys
import threading

import pytest
import torch
from emkit.ops import DegradeRanges, degrade_pair, sample_degrade_params


def batch(seed: int = 0):
    x = torch.randint(0, 256, (6, 1, 48, 48), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))
    p = sample_degrade_params(6, (48, 48), (40, 40), DegradeRanges(), generator=torch.Generator().manual_seed(seed))
    return x, p


@pytest.mark.skipif(sys.platform == "win32", reason="fork() is POSIX")
def test_works_in_a_forked_child(torch_threads):
    """DataLoader workers fork after the parent used the op; the child must not hang."""
    torch_threads(2)
    x, p = batch()
    expected = degrade_pair(x, p, (40, 40), 3)[1]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: bounded by an alarm so a hang fails instead of blocking the suite
        try:
            import signal

            signal.alarm(30)
            out = degrade_pair(x, p, (40, 40), 3)[1]
            os.write(write, pickle.dumps(out.numpy()))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0 and data, "the forked child did not finish"
    assert torch.equal(torch.from_numpy(pickle.loads(data)), expected)


def test_concurrent_calls_from_python_threads(torch_threads):
    torch_threads(2)
    x, p = batch(1)
    expected = degrade_pair(x, p, (40, 40), 5)
    results = [None] * 4

    def work(k):
        results[k] = degrade_pair(x, p, (40, 40), 5)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got in results:
        assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])
