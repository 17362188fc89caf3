"""torch.distributed set-up for DDP runs started by torchrun, and its failures as one line.

Single-process runs use the same helpers with world size 1, so the trainer has no
special cases: rank 0 logs and writes, metrics are summed across ranks.

* ``init`` joins the process group (gloo on CPU, NCCL on CUDA) through
  ``rendezvous.group_store``, which keeps an elastic restart off the previous worker
  group's store keys.
* ``lost_peers`` turns the error a collective raises when another process of the run died
  (gloo "Connection closed by peer", NCCL/gloo timeouts) into one ``DistributedError``
  line instead of a traceback per rank.
* ``ddp_options`` are the ``DistributedDataParallel`` arguments: buffers (BatchNorm
  running statistics) follow rank 0 at every forward, through ``forward_sync_buffers``
  where torch has it (``broadcast_buffers`` is deprecated since torch 2.13).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import os
from typing import Any, Iterator

import torch
import torch.distributed as dist

from emkit.engine.runtime import rendezvous
from emkit.errors import DistributedError


@dataclasses.dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def started_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ and "LOCAL_RANK" in os.environ


def init(device_type: str) -> DistInfo:
    """Join the process group when started by torchrun (gloo on CPU, nccl on CUDA)."""
    if not started_by_torchrun() or int(os.environ["WORLD_SIZE"]) <= 1:
        return DistInfo()
    info = DistInfo(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"]))
    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        store = rendezvous.group_store(info.rank, info.world_size)
        try:
            if store is None:
                dist.init_process_group(backend=backend)
            else:
                dist.init_process_group(backend=backend, store=store, rank=info.rank, world_size=info.world_size)
        except RuntimeError as exc:
            raise DistributedError(f"rank {info.rank} of {info.world_size} could not form the process group "
                                   f"(rendezvous {rendezvous.endpoint()}): {rendezvous.short_error(exc)}") from exc
    return info


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def broadcast_object(info: DistInfo, obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if not info.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather_objects(info: DistInfo, obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order, on every rank."""
    if not info.enabled:
        return [obj]
    out: list[Any] = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def all_reduce_sum(info: DistInfo, tensor: torch.Tensor) -> torch.Tensor:
    if info.enabled:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def sync_buffers(info: DistInfo, module: torch.nn.Module) -> None:
    """Copy rank 0's buffers (BatchNorm running stats) to every rank."""
    if not info.enabled:
        return
    for buf in module.buffers():
        dist.broadcast(buf.data, src=0)


def any_rank(info: DistInfo, flag: bool) -> bool:
    """True on every rank when ``flag`` is true on any (a stop every rank must agree on)."""
    if not info.enabled:
        return bool(flag)
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    box = torch.tensor([1 if flag else 0], dtype=torch.int32, device=device)
    dist.all_reduce(box, op=dist.ReduceOp.MAX)
    return bool(box.item())


@functools.lru_cache(maxsize=1)
def ddp_options() -> dict[str, Any]:
    """Keyword arguments of ``DistributedDataParallel``: rank 0's buffers at every forward."""
    from torch.nn.parallel import DistributedDataParallel

    params = inspect.signature(DistributedDataParallel.__init__).parameters
    return {"forward_sync_buffers": True} if "forward_sync_buffers" in params else {"broadcast_buffers": True}


#: Text of the errors gloo raises as a plain RuntimeError (its messages name gloo's sources).
_PEER_LOST = ("connection closed by peer", "connection reset by peer", "gloo", "nccl")


def is_peer_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a collective failing because another process went away."""
    if isinstance(exc, dist.DistError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(marker in text for marker in _PEER_LOST)


@contextlib.contextmanager
def lost_peers(info: DistInfo, resume_hint: str) -> Iterator[None]:
    """Re-raise a collective's peer failure as one ``DistributedError`` line."""
    try:
        yield
    except DistributedError:
        raise
    except RuntimeError as exc:
        if not info.enabled or not is_peer_failure(exc):
            raise
        elastic = os.environ.get("TORCHELASTIC_MAX_RESTARTS", "0") != "0"
        raise DistributedError(
            f"rank {info.rank} of {info.world_size}: another process of this run stopped during a collective "
            f"operation ({rendezvous.short_error(exc)}); {resume_hint}"
            + (" (torchrun restarts the workers while it has restarts left)" if elastic else
               " (torchrun --max-restarts=N restarts the workers automatically)")
        ) from exc
