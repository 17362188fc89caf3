"""A restarted worker group forms its process group despite the previous group's store keys.

The test process plays torchrun's elastic agent: it hosts the shared TCP store and starts
workers with the environment the agent gives them (``TORCHELASTIC_USE_AGENT_STORE=True``).
A first group of two workers joins through torch's plain ``env://`` and exits, leaving its
addresses in the store, as a group that torchrun restarts does. Then:

* plain ``env://`` in the next group reads the dead rank's address and gloo fails with
  ``connectFullMesh ... Connection refused`` -- the failure seen in elastic restarts;
* ``emkit.engine.runtime.distributed.init`` forms the group, even with the stale entry of
  emkit's own key present and the ranks starting seconds apart.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import torch
import torch.distributed as dist

from emkit.engine.runtime.rendezvous import STORE_KEY

PLAIN = """
import datetime, torch, torch.distributed as dist
dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=30))
t = torch.tensor([float(dist.get_rank() + 1)]); dist.all_reduce(t); print("sum", t.item(), flush=True)
dist.destroy_process_group()
"""
EMKIT = """
import torch, torch.distributed as dist
from emkit.engine.runtime import distributed
info = distributed.init("cpu")
t = torch.tensor([float(info.rank + 1)]); dist.all_reduce(t); print("sum", t.item(), flush=True)
distributed.shutdown()
"""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(code: str, rank: int, port: int) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TORCHELASTIC_USE_AGENT_STORE": "True",
           "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank), "LOCAL_RANK": str(rank),
           "WORLD_SIZE": "2"}
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return -1, f"(hung, killed after 300 s) {out} {err}"
    return proc.returncode, out + err


@pytest.mark.skipif(tuple(int(x) for x in torch.__version__.split(".")[:2]) < (2, 5),
                    reason="torchrun shares its store with the workers since torch 2.5")
def test_a_restarted_group_ignores_the_previous_groups_store_entries():
    agent = dist.TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False, timeout=timedelta(seconds=60))
    first = [start(PLAIN, rank, agent.port) for rank in (0, 1)]
    for proc in first:
        code, text = finish(proc)
        assert code == 0 and "sum 3.0" in text, text[-2000:]

    # the cause: plain env:// in the restarted group connects to the dead rank 1's address
    code, text = finish(start(PLAIN, 0, agent.port))
    assert code != 0 and "Connection refused" in text, "torch no longer reads the previous group's keys? " + text[-2000:]

    # emkit's init: a stale entry of its own key too, and rank 1 starts before rank 0
    agent.set(STORE_KEY, f"127.0.0.1:{closed_port()}")
    late = start(EMKIT, 1, agent.port)
    time.sleep(2.0)
    early = start(EMKIT, 0, agent.port)
    for proc in (late, early):
        code, text = finish(proc)
        assert code == 0 and "sum 3.0" in text, text[-2000:]
