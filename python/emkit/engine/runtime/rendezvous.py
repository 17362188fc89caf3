"""The key-value store a torchrun worker group forms its process group through.

torchrun's elastic agent hosts one TCP store for the whole job and tells every worker to
use it (``TORCHELASTIC_USE_AGENT_STORE=True``, ``MASTER_ADDR``/``MASTER_PORT``). Since
torch 2.5 that store outlives the workers and is shared by every restart of the worker
group with the same key names, so a restarted rank can read the *previous* group's
addresses -- a dead process's port -- before its new peers overwrite them. Gloo then fails
with ``Gloo connectFullMesh failed ... Connection refused`` (NCCL with a stale unique id);
it is a race, so some restarts work and others kill the job
(https://github.com/pytorch/pytorch/issues/135712; ``TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1``
on the agents is torch's switch to avoid the sharing).

emkit keeps the process group off the shared keys: global rank 0 starts a store of its own
on a free port and publishes ``host:port`` in the agent's store; the other ranks read it
and connect. A stale entry can only name a store of a previous worker group, whose
processes the agent stopped before restarting, so the connection is refused and the
rank reads the entry again until rank 0 of its own group has replaced it. Without the
agent's store (a plain launcher setting ``MASTER_ADDR``/``MASTER_PORT``) torch's
``env://`` is used as is.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import timedelta

import torch.distributed as dist

from emkit.errors import DistributedError

#: Key under which rank 0 publishes its store in the agent's store.
STORE_KEY = "emkit/process-group-store"
#: How long a rank waits for the others (and for rank 0's store) before giving up.
DEFAULT_TIMEOUT = timedelta(minutes=10)
#: One connection attempt to a published store; a refused one is retried after re-reading.
CONNECT_TRY = timedelta(seconds=2)


def uses_agent_store(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get("TORCHELASTIC_USE_AGENT_STORE") == "True"


def endpoint(environ: dict[str, str] | None = None) -> str:
    """``MASTER_ADDR:MASTER_PORT``, the rendezvous every worker of the group connects to."""
    env = os.environ if environ is None else environ
    return f"{env.get('MASTER_ADDR', '?')}:{env.get('MASTER_PORT', '?')}"


def _agent_store(timeout: timedelta) -> dist.TCPStore:
    try:
        return dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), is_master=False,
                             timeout=timeout)
    except (RuntimeError, ValueError) as exc:
        raise DistributedError(f"cannot reach the torchrun rendezvous store at {endpoint()} within "
                               f"{timeout.total_seconds():.0f} s ({short_error(exc)})") from exc


def _host_store(agent: dist.TCPStore, world_size: int, timeout: timedelta) -> dist.TCPStore:
    """Rank 0: a fresh store on a free port, published in the agent's store."""
    store = dist.TCPStore(os.environ["MASTER_ADDR"], 0, world_size, is_master=True, timeout=timeout,
                          wait_for_workers=False)
    agent.set(STORE_KEY, f"{os.environ['MASTER_ADDR']}:{store.port}")
    return store


def _join_store(agent: dist.TCPStore, timeout: timedelta) -> dist.TCPStore:
    """Other ranks: connect to rank 0's store, re-reading a stale entry until it is current."""
    deadline = time.monotonic() + timeout.total_seconds()
    last = "no store published"
    while time.monotonic() < deadline:
        try:
            host, port = agent.get(STORE_KEY).decode().rsplit(":", 1)
            _listening(host, int(port))  # a stale entry is refused here, quietly
            store = dist.TCPStore(host, int(port), is_master=False, timeout=CONNECT_TRY)
            store.set_timeout(timeout)  # connected: wait for the other ranks as long as rank 0 does
            return store
        except (OSError, RuntimeError, ValueError) as exc:  # stale entry or not yet published
            last = short_error(exc)
            time.sleep(0.2)
    raise DistributedError(f"rank {os.environ.get('RANK')}: rank 0 of this worker group did not open its "
                           f"process-group store within {timeout.total_seconds():.0f} s (rendezvous "
                           f"{endpoint()}; last attempt: {last})")


def _listening(host: str, port: int) -> None:
    """Raise ``OSError`` unless something accepts connections at ``host:port``."""
    with socket.create_connection((host, port), timeout=CONNECT_TRY.total_seconds()):
        pass


def group_store(rank: int, world_size: int, timeout: timedelta = DEFAULT_TIMEOUT) -> dist.Store | None:
    """The store to pass to ``init_process_group``: None (use ``env://``) unless the
    process runs under torchrun's shared agent store (see the module docstring)."""
    if not uses_agent_store():
        return None
    agent = _agent_store(timeout)
    return _host_store(agent, world_size, timeout) if rank == 0 else _join_store(agent, timeout)


def short_error(exc: BaseException) -> str:
    """The first sentence of a torch/gloo error, without its source-file prefix and advice."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = text.split("] ", 1)[-1] if text.startswith("[") else text
    return text.split(". This is typically", 1)[0].rstrip(".")
