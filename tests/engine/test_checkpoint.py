"""Atomic checkpoints: round trip, pointer written last, pruning, no pickle needed."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from emkit.engine import checkpoint
from emkit.engine.atomic import atomic_path
from emkit.errors import EmkitError


def _model_and_opt(seed: int):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.rand(2, 1, 8, 8)).mean().backward()
    opt.step()
    return model, opt


def test_round_trip_restores_weights_and_optimizer(tmp_path):
    model, opt = _model_and_opt(0)
    checkpoint.save_checkpoint(tmp_path, step=7, modules={"g": model}, optimizers={"g": opt},
                               extra={"epoch": 1, "epoch_step": 3})
    other, other_opt = _model_and_opt(1)
    state = checkpoint.load_checkpoint(tmp_path, modules={"g": other}, optimizers={"g": other_opt})
    assert state == {"step": 7, "epoch": 1, "epoch_step": 3}
    for a, b in zip(model.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b)
    sa, sb = opt.state_dict()["state"][0], other_opt.state_dict()["state"][0]
    assert torch.equal(sa["exp_avg"], sb["exp_avg"])


def test_pointer_and_pruning(tmp_path):
    model, opt = _model_and_opt(0)
    for step in (1, 2, 3, 4):
        checkpoint.save_checkpoint(tmp_path, step=step, modules={"g": model}, optimizers={"g": opt}, extra={})
    assert json.loads((tmp_path / "latest.json").read_text())["step"] == 4
    assert sorted(p.name for p in tmp_path.glob("ckpt-*.safetensors")) == [
        "ckpt-00000003.safetensors", "ckpt-00000004.safetensors"]
    assert not list(tmp_path.glob("*.tmp"))


def test_no_checkpoint_returns_none(tmp_path):
    model, opt = _model_and_opt(0)
    assert checkpoint.load_checkpoint(tmp_path, modules={"g": model}, optimizers={"g": opt}) is None


def test_mismatched_module_is_named(tmp_path):
    model, opt = _model_and_opt(0)
    checkpoint.save_checkpoint(tmp_path, step=1, modules={"g": model}, optimizers={}, extra={})
    with pytest.raises(EmkitError, match="module 'g'"):
        checkpoint.load_checkpoint(tmp_path, modules={"g": nn.Linear(2, 2)}, optimizers={})


def test_atomic_path_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_files_get_normal_permissions(tmp_path):
    import os

    from emkit.engine.atomic import write_text_atomic

    umask = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "config.yaml", "a: 1\n")
    finally:
        os.umask(umask)
    assert (tmp_path / "config.yaml").stat().st_mode & 0o777 == 0o644
