"""DDP options without torch's deprecation warning, and a lost peer recognised as such."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from emkit.engine.runtime.distributed import DistInfo, any_rank, ddp_options, is_peer_failure, lost_peers
from emkit.errors import DistributedError


@pytest.fixture
def one_process_group():
    store = dist.TCPStore("127.0.0.1", 0, 1, True, timeout=timedelta(seconds=30))
    dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def _deprecations(**kwargs) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        DistributedDataParallel(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)), **kwargs)
    return [str(w.message) for w in caught if "deprecated" in str(w.message)]


def test_ddp_options_sync_buffers_without_a_deprecation_warning(one_process_group):
    assert _deprecations(**ddp_options()) == []
    if "forward_sync_buffers" in ddp_options():  # torch >= 2.13: the old argument does warn
        assert _deprecations(broadcast_buffers=True)


def test_peer_failures_become_one_line_and_other_errors_pass_through():
    gloo = RuntimeError("[/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:553] Connection closed by peer "
                        "[127.0.0.1]:54964. This is typically caused by a remote worker crashing. GLHF!")
    assert is_peer_failure(gloo) and not is_peer_failure(RuntimeError("shape mismatch"))
    info = DistInfo(rank=1, world_size=2)
    with pytest.raises(DistributedError) as caught:
        with lost_peers(info, "resume it"):
            raise gloo
    text = str(caught.value)
    assert text.startswith("rank 1 of 2: another process of this run stopped during a collective operation "
                           "(Connection closed by peer [127.0.0.1]:54964); resume it")
    assert "GLHF" not in text and "pair.cc" not in text
    with pytest.raises(RuntimeError, match="shape mismatch"):
        with lost_peers(info, "resume it"):
            raise RuntimeError("shape mismatch")
    with pytest.raises(RuntimeError, match="closed by peer"):  # one process: nothing to translate
        with lost_peers(DistInfo(), "resume it"):
            raise gloo


def test_any_rank_is_the_flag_itself_in_one_process():
    assert any_rank(DistInfo(), True) and not any_rank(DistInfo(), False)
