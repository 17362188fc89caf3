"""Multi-process training on CPU processes with gloo, through torchrun and the real CLI.

* two torchrun agents joined by a c10d rendezvous ("two nodes" on one machine) train one
  run: one folder written by rank 0, metrics in the format of a one-process run;
* N processes x batch b end with the parameters of 1 process x batch N*b when the step's
  randomness is seeded per sample and there is no BatchNorm (with BatchNorm they differ:
  each rank normalises over its own batch, as documented);
* each epoch's items are disjoint across ranks and steps and cover the split but a short
  tail -- also across a kill and a resume with the same, fewer (4 -> 2) or more (1 -> 2)
  processes;
* torchrun's elastic agent (--max-restarts) restarts a worker group after one worker is
  SIGKILLed mid-epoch: it continues the same run folder from its newest checkpoint and
  ends with the weights of an uninterrupted run;
* without restarts left, the surviving ranks stop with one error line, and a rendezvous
  that never completes ends in one line naming the endpoint.

Workers are killed from the test (SIGKILL to the process whose environment says
LOCAL_RANK=1, once a checkpoint file shows the wanted step), not from inside the run.
These runs start 2-6 processes each; they are opt-in: EMKIT_SLOW_TESTS=1.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from ddp_probe import install, read_log
from safetensors.torch import load_file

from emkit.engine.runs.metrics_log import read_metrics

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not os.environ.get("EMKIT_SLOW_TESTS"),
                                                   reason="multi-process torchrun runs; set EMKIT_SLOW_TESTS=1")]

TINY = ["pretext=pix2pix", "generator=unet", "generator.blocks=2", "generator.width=4", "pretext.crop=32",
        "pretext.d_width=8", "data=synthetic-cem", "data.size=64", "data.val_length=4", "data.test_length=4",
        "train.log_every=1", "train.device=cpu", "train.steps_per_epoch=null"]
PROBE = ["pretext=probe", "generator=probe-net", "data=probe-data", "data.length=33", "train.device=cpu",
         "train.log_every=1", "train.deterministic=true"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(extra: dict | None = None) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", **(extra or {})}


def torchrun(flags: list[str], args: list[str], cwd: Path, env: dict | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "torch.distributed.run", *flags, "-m", "emkit", "run", *args]
    return subprocess.Popen(cmd, cwd=cwd, env=environment(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def emkit(args: list[str], cwd: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "emkit", "run", *args], cwd=cwd, env=environment(env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 600) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def checkpoint_step(run: Path) -> int:
    try:
        return json.loads((run / "checkpoints" / "latest.json").read_text())["step"]
    except (OSError, ValueError, KeyError):
        return -1


def worker_pid(parent: int, local_rank: int) -> int | None:
    """The child of ``parent`` (a torchrun agent) started with ``LOCAL_RANK=local_rank``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            env = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and f"LOCAL_RANK={local_rank}".encode() in env:
            return int(entry.name)
    return None


def kill_when(proc: subprocess.Popen, run: Path, steps: set[int], local_rank: int | None = 1) -> int:
    """SIGKILL a worker of ``proc`` (or ``proc`` itself: ``local_rank=None``) as soon as the
    run's newest checkpoint is one of ``steps``; return that checkpoint's step."""
    while proc.poll() is None:
        step = checkpoint_step(run)
        if step in steps:
            pid = proc.pid if local_rank is None else worker_pid(proc.pid, local_rank)
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
                return step
        time.sleep(0.01)
    raise AssertionError(f"the run ended before a checkpoint at one of the steps {sorted(steps)}: "
                         + proc.stderr.read()[-3000:])


def only_dirs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


def files_of(run: Path) -> set[str]:
    return {str(p.relative_to(run)) for p in run.rglob("*") if p.is_file()}


# ---------------------------------------------------------------- two nodes -------------
def test_two_torchrun_agents_train_one_run_like_one_process(tmp_path):
    port = free_port()
    args = [*TINY, "data.length=16", "train.epochs=2", "seed=3"]
    flags = ["--nnodes=2", "--nproc_per_node=2", "--rdzv_backend=c10d", f"--rdzv_endpoint=localhost:{port}",
             "--rdzv_id=two-nodes"]
    agents = [torchrun(flags, [*args, "train.batch_size=2", "name=multi"], tmp_path) for _ in range(2)]
    single = emkit([*args, "train.batch_size=8", "name=single"], tmp_path)
    results = [finish(p) for p in [*agents, single]]
    for code, out, err in results:
        assert code == 0, err[-3000:]
        assert "broadcast_buffers is deprecated" not in err
    assert only_dirs(tmp_path / "runs") == ["multi", "single"]  # 4 processes, one folder
    multi, one = tmp_path / "runs" / "multi", tmp_path / "runs" / "single"
    assert files_of(multi) - {"launch.json"} == files_of(one) and (multi / "launch.json").exists()
    rows_multi, rows_one = read_metrics(multi / "metrics.csv"), read_metrics(one / "metrics.csv")
    assert list(rows_multi[0]) == list(rows_one[0])  # the same columns in the same order
    position = [[(r["kind"], r["epoch"], r["step"]) for r in rows] for rows in (rows_multi, rows_one)]
    assert position[0] == position[1] == sorted(set(position[1]), key=position[1].index)  # no row twice
    announced = sum(out.count("run directory: runs/multi") for _, out, _ in results[:2])
    assert announced == 1  # only rank 0 talks


# ---------------------------------------------------------------- equivalence -----------
def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run / "generator.safetensors"))


def _max_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def test_two_processes_learn_what_one_process_learns_with_the_global_batch(tmp_path):
    env = install(tmp_path / "site")
    logs = {name: tmp_path / f"log-{name}" for name in ("two", "one")}
    for folder in logs.values():
        folder.mkdir()
    args = [*PROBE, "data.length=30", "train.epochs=2", "seed=4"]
    two = torchrun(["--standalone", "--nproc_per_node=2"], [*args, "train.batch_size=2", "name=two"], tmp_path,
                   {**env, "EMKIT_PROBE_LOG": str(logs["two"])})
    one = emkit([*args, "train.batch_size=4", "name=one"], tmp_path, {**env, "EMKIT_PROBE_LOG": str(logs["one"])})
    two_bn = torchrun(["--standalone", "--nproc_per_node=2"],
                      [*args, "generator.norm=true", "train.batch_size=2", "name=two-bn"], tmp_path, env)
    one_bn = emkit([*args, "generator.norm=true", "train.batch_size=4", "name=one-bn"], tmp_path, env)
    for proc in (two, one, two_bn, one_bn):
        code, _, err = finish(proc)
        assert code == 0, err[-3000:]
    runs = tmp_path / "runs"
    # every step's global batch is the same set of samples
    by_step: dict[str, dict[int, list[int]]] = {}
    for name, folder in logs.items():
        steps: dict[int, list[int]] = {}
        for record in read_log(folder):
            steps.setdefault(record["step"], []).extend(record["items"])
        by_step[name] = {s: sorted(items) for s, items in steps.items()}
    assert by_step["two"] == by_step["one"] and len(by_step["one"]) == 14  # 30 // 4 = 7 steps x 2 epochs
    assert _max_difference(_weights(runs / "two"), _weights(runs / "one")) < 1e-6
    val = [[r["val_l1"] for r in read_metrics(runs / n / "metrics.csv") if r["kind"] == "epoch"] for n in ("two", "one")]
    assert val[0] == val[1]
    # BatchNorm normalises over each rank's batch: the same data, different parameters
    assert _max_difference(_weights(runs / "two-bn"), _weights(runs / "one-bn")) > 1e-3


# ---------------------------------------------------------------- sharding and resume ---
def _effective(before: list[dict], after: list[dict], resumed_at: int) -> list[dict]:
    """What the run trained: steps before the checkpoint it resumed from, then the resumed run."""
    return [r for r in before if r["step"] < resumed_at] + after


def _check_epochs(records: list[dict], n: int, tail: int) -> dict[int, list[int]]:
    epochs: dict[int, list[int]] = {}
    for r in records:
        epochs.setdefault(r["epoch"], []).extend(r["items"])
    for epoch, items in epochs.items():
        assert len(items) == len(set(items)), f"epoch {epoch}: an item was trained twice"
        assert set(items) <= set(range(n)) and n - len(items) < tail, f"epoch {epoch}: items skipped"
    steps = sorted({r["step"] for r in records})
    assert steps == list(range(len(steps)))
    return epochs


@pytest.mark.parametrize("old,new", [(2, 2), (4, 2), (1, 2)])
def test_items_stay_disjoint_and_complete_across_a_kill_and_a_resume(tmp_path, old, new):
    env = install(tmp_path / "site")
    first_log, second_log = tmp_path / "first", tmp_path / "second"
    first_log.mkdir(), second_log.mkdir()
    args = [*PROBE, "train.epochs=2", "train.batch_size=2", "train.checkpoint_every=1", "name=r"]
    run = tmp_path / "runs" / "r"
    steps_per_epoch = 33 // (2 * old)
    wanted = {s for s in range(2, 2 * steps_per_epoch) if s % steps_per_epoch}  # mid-epoch checkpoints
    if old == 1:
        proc = emkit(args, tmp_path, {**env, "EMKIT_PROBE_LOG": str(first_log)})
        resumed_at = kill_when(proc, run, wanted, local_rank=None)
    else:
        proc = torchrun(["--standalone", f"--nproc_per_node={old}"], args, tmp_path,
                        {**env, "EMKIT_PROBE_LOG": str(first_log)})
        resumed_at = kill_when(proc, run, wanted)
    code, _, err = finish(proc)
    assert code != 0
    assert checkpoint_step(run) >= resumed_at  # the survivors wrote nothing newer that is broken
    resumed_at = checkpoint_step(run)
    second = torchrun(["--standalone", f"--nproc_per_node={new}"], [f"resume={run}"], tmp_path,
                      {**env, "EMKIT_PROBE_LOG": str(second_log)})
    code, out, err = finish(second)
    assert code == 0, err[-3000:]
    records = _effective(read_log(first_log), read_log(second_log), resumed_at)
    epochs = _check_epochs(records, 33, tail=2 * max(old, new))
    assert len(epochs) == 2
    if old != new:
        assert f"global batch is {2 * new} (was {2 * old})" in err and "learning rate is not rescaled" in err
    else:
        assert "global batch" not in err


# ---------------------------------------------------------------- elastic restart -------
def test_an_elastic_restart_continues_the_same_run_and_matches_an_uninterrupted_one(tmp_path):
    args = [*TINY, "data.length=32", "train.batch_size=2", "train.epochs=2", "train.deterministic=true",
            "train.checkpoint_every=1", "seed=11", "name=el"]
    flags = ["--standalone", "--nproc_per_node=2", "--max-restarts=1"]
    (tmp_path / "killed").mkdir(), (tmp_path / "straight").mkdir()
    killed = torchrun(flags, args, tmp_path / "killed")
    run = tmp_path / "killed" / "runs" / "el"
    resumed_at = kill_when(killed, run, {2, 3, 4, 5})  # 8 steps per epoch: mid-epoch 1
    straight = torchrun(flags, args, tmp_path / "straight")
    code, out, err = finish(killed)
    assert code == 0, err[-3000:]
    assert "elastic restart 1: continuing runs/el" in err
    assert only_dirs(tmp_path / "killed" / "runs") == ["el"]  # never a fresh el-2 from step 0
    code, _, straight_err = finish(straight)
    assert code == 0, straight_err[-3000:]
    steps = [int(r["step"]) for r in read_metrics(run / "metrics.csv") if r["kind"] == "step"]
    assert steps == list(range(1, 17))
    resumed = [line for line in out.splitlines() if line.startswith("resuming runs/el at step")]
    assert len(resumed) == 1 and int(resumed[0].split()[4]) >= resumed_at, resumed
    reference = _weights(tmp_path / "straight" / "runs" / "el")
    final = _weights(run)
    assert all(torch.equal(final[k], reference[k]) for k in reference)


def test_a_rank_lost_without_restarts_left_stops_the_others_with_one_line(tmp_path):
    args = [*TINY, "data.length=32", "train.batch_size=2", "train.epochs=2", "train.checkpoint_every=1", "name=lost"]
    proc = torchrun(["--standalone", "--nproc_per_node=2", "--max-restarts=0"], args, tmp_path)
    run = tmp_path / "runs" / "lost"
    kill_when(proc, run, {2, 3, 4, 5})
    code, _, err = finish(proc, timeout=300)  # a hang would time out here
    assert code != 0
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err[-3000:]
    assert errors[0].startswith("error: rank 0 of 2: another process of this run stopped during a collective")
    assert "continue with emkit run resume=runs/lost" in errors[0]
    assert "/emkit/" not in err  # no traceback through emkit's code
    assert not (run / "generator.safetensors").exists() and checkpoint_step(run) >= 2


def test_a_rendezvous_that_never_completes_ends_with_one_line(tmp_path):
    proc = emkit([*TINY, "data.length=16", "launcher=torchrun", "devices=1", "nodes=2",
                  f"rdzv_endpoint=localhost:{free_port()}", "rdzv_timeout=3"], tmp_path)
    code, _, err = finish(proc, timeout=120)
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("error: the rendezvous at localhost:")
    assert "did not complete within 3 s" in err
