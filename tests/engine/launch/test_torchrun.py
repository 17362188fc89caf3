"""``launcher=torchrun``: the torchrun command for one machine or several, and a rendezvous
that cannot be reached ending in one line that names it (not a two-minute traceback)."""

from __future__ import annotations

import socket
import time
from types import SimpleNamespace

import pytest

from emkit.engine.launch import torchrun
from emkit.errors import ConfigError, DistributedError
from emkit.testing.fixtures import run_emkit

TINY = ["pretext=pix2pix", "generator=unet", "generator.blocks=2", "generator.width=4", "pretext.crop=32",
        "pretext.d_width=8", "data=synthetic-cem", "data.size=64", "data.length=16", "train.device=cpu"]


def run_settings(**values):
    base = dict(launcher="torchrun", devices=2, nodes=1, rdzv_endpoint=None, rdzv_timeout=600, max_restarts=0)
    return SimpleNamespace(**{**base, **values})


def test_one_machine_is_standalone_and_launch_keys_stay_out_of_the_workers_command():
    cmd = torchrun.command(run_settings(max_restarts=2), [*TINY, "launcher=torchrun", "devices=2", "max_restarts=2"],
                           ["extra.yaml"])
    assert "--standalone" in cmd and "--nproc_per_node=2" in cmd and "--max-restarts=2" in cmd
    worker = cmd[cmd.index("emkit") + 1:]
    assert worker[:len(TINY) + 1] == ["run", *TINY]
    assert worker[len(TINY) + 1:] == ["launcher=none", "devices=2", "--config", "extra.yaml"]


def test_several_machines_get_one_rendezvous_with_the_same_id_everywhere():
    settings = run_settings(nodes=3, rdzv_endpoint="node0.lab:29500", rdzv_timeout=120)
    cmd = torchrun.command(settings, TINY, [])
    flags = [a for a in cmd if a.startswith("--")]
    assert {"--nnodes=3", "--rdzv_backend=c10d", "--rdzv_endpoint=node0.lab:29500",
            "--rdzv_conf=join_timeout=120"} <= set(flags) and "--standalone" not in flags
    same = torchrun.command(settings, list(reversed(TINY)), [])
    other = torchrun.command(settings, [*TINY, "seed=1"], [])
    rdzv_id = [a for a in cmd if a.startswith("--rdzv_id=")]
    assert rdzv_id == [a for a in same if a.startswith("--rdzv_id=")] != [a for a in other if a.startswith("--rdzv_id=")]


def test_settings_a_launch_cannot_honour_are_refused_or_warned_about():
    with pytest.raises(ConfigError, match="nodes=2 needs rdzv_endpoint"):
        torchrun.check_settings(run_settings(nodes=2))
    with pytest.raises(ConfigError, match="expected host:port"):
        torchrun.check_settings(run_settings(nodes=2, rdzv_endpoint="node0"))
    warnings = torchrun.check_settings(run_settings(launcher="none", nodes=2, rdzv_endpoint="a:1"))
    assert warnings == ["nodes, rdzv_endpoint only apply with launcher=torchrun; ignored"]
    assert torchrun.is_local("localhost") and torchrun.is_local("127.0.0.1") and not torchrun.is_local("192.0.2.1")


def test_an_endpoint_nobody_listens_on_times_out_naming_it():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(DistributedError, match=f"cannot reach the rendezvous at 127.0.0.1:{port} within 1 s"):
        torchrun.wait_for_endpoint(f"127.0.0.1:{port}", 1.0)
    assert time.monotonic() - started < 10


def test_emkit_run_stops_with_one_line_when_the_rendezvous_host_is_unreachable(tmp_path):
    # 192.0.2.1 is TEST-NET-1: never this machine, never answering
    proc = run_emkit("run", *TINY, "launcher=torchrun", "devices=1", "nodes=2", "rdzv_endpoint=192.0.2.1:29400",
                     "rdzv_timeout=2", cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "error: cannot reach the rendezvous at 192.0.2.1:29400 within 2 s"), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and not (tmp_path / "runs").exists()
