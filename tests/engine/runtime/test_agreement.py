"""Ranks that resolved different configs stop at start with one line naming the keys."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from emkit.engine.runtime.agreement import config_hash, differences, flatten, mismatch_message

TINY = ["pretext=pix2pix", "generator=unet", "generator.blocks=2", "generator.width=4", "pretext.crop=32",
        "pretext.d_width=8", "data=synthetic-cem", "data.size=64", "data.length=16", "data.val_length=4",
        "train.device=cpu", "train.epochs=1"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_differences_name_each_key_and_every_ranks_value():
    trees = [{"train": {"batch_size": 4, "lr": 1e-3}, "seed": 0}, {"train": {"batch_size": 8, "lr": 1e-3}}]
    flat = [flatten(t) for t in trees]
    assert flat[0] == {"train.batch_size": 4, "train.lr": 1e-3, "seed": 0}
    diffs = differences(flat)
    assert diffs == {"seed": [0, "<unset>"], "train.batch_size": [4, 8]}
    message = mismatch_message(diffs)
    assert "train.batch_size (rank 0: 4, rank 1: 8)" in message and "seed (rank 0: 0, rank 1: '<unset>')" in message
    assert config_hash(trees[0]) == config_hash({"seed": 0, "train": {"lr": 1e-3, "batch_size": 4}})
    assert config_hash(trees[0]) != config_hash(trees[1])


def test_a_rank_with_another_config_stops_every_rank_before_training(tmp_path):
    """Two real processes joined through env:// (as torchrun starts them), rank 1 with another
    batch size: both exit with the same one-line error instead of hanging in a collective."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()),
           "WORLD_SIZE": "2"}
    procs = []
    for rank, batch in ((0, 4), (1, 8)):
        args = [sys.executable, "-m", "emkit", "run", *TINY, f"train.batch_size={batch}", f"runs_dir={tmp_path}"]
        procs.append(subprocess.Popen(args, cwd=tmp_path, env={**env, "RANK": str(rank), "LOCAL_RANK": str(rank)},
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (_out, err) in zip(procs, results):
        assert proc.returncode == 2, err[-2000:]
        lines = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and "resolved different configs" in lines[0], err[-2000:]
        assert "train.batch_size (rank 0: 4, rank 1: 8)" in lines[0]
        assert "Traceback" not in err
    assert not [p for p in tmp_path.iterdir() if p.is_dir()], "a run folder was created"
