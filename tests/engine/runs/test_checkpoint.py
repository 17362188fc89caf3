"""Atomic checkpoints: round trip, pointer written last, pruning, no pickle needed."""

from __future__ import annotations

import errno
import json

import pytest
import torch
from torch import nn

from emkit.engine.runs import checkpoint
from emkit.storage.atomic import atomic_path
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

    from emkit.storage.atomic import write_text_atomic

    umask = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "config.yaml", "a: 1\n")
    finally:
        os.umask(umask)
    assert (tmp_path / "config.yaml").stat().st_mode & 0o777 == 0o644


# ---------------------------------------------------------------- fallback on resume ---------
def _two_checkpoints(tmp_path):
    model, opt = _model_and_opt(0)
    for step in (1, 2):
        with torch.no_grad():
            model[0].weight.add_(1.0)
        checkpoint.save_checkpoint(tmp_path, step=step, modules={"g": model}, optimizers={"g": opt},
                                   extra={"epoch": 0, "epoch_step": step})
    return model, opt


def _load(tmp_path):
    model, opt = _model_and_opt(1)
    warnings = []
    state = checkpoint.load_checkpoint(tmp_path, modules={"g": model}, optimizers={"g": opt}, warn=warnings.append)
    return state, warnings


def test_truncated_newest_weights_fall_back_with_a_warning_naming_it(tmp_path):
    _two_checkpoints(tmp_path)
    newest = tmp_path / "ckpt-00000002.safetensors"
    newest.write_bytes(newest.read_bytes()[:50])
    state, warnings = _load(tmp_path)
    assert state["step"] == 1
    assert len(warnings) == 1 and "ckpt-00000001.safetensors" in warnings[0]
    assert "ckpt-00000002.safetensors is unreadable" in warnings[0]


def test_a_broken_state_file_is_named_as_such(tmp_path):
    _two_checkpoints(tmp_path)
    (tmp_path / "ckpt-00000002.state.pt").write_bytes(b"not a zip")
    state, warnings = _load(tmp_path)
    assert state["step"] == 1
    assert "ckpt-00000002.state.pt is unreadable" in warnings[0]
    assert "ckpt-00000002.safetensors is unreadable" not in warnings[0]


def test_missing_or_damaged_pointer_still_finds_the_files(tmp_path):
    _two_checkpoints(tmp_path)
    (tmp_path / "latest.json").write_text("{broken")
    state, warnings = _load(tmp_path)
    assert state["step"] == 2 and warnings == []


def test_no_readable_checkpoint_lists_every_file(tmp_path):
    _two_checkpoints(tmp_path)
    for p in tmp_path.glob("ckpt-*.safetensors"):
        p.write_bytes(b"")
    with pytest.raises(EmkitError, match="No readable checkpoint") as err:
        _load(tmp_path)
    assert "ckpt-00000001.safetensors" in str(err.value) and "ckpt-00000002.safetensors" in str(err.value)


# ---------------------------------------------------------------- full / read-only disks -----
def test_disk_full_during_a_checkpoint_is_one_line_and_stays_resumable(tmp_path, monkeypatch):
    """torch.save's ``enforce fail at inline_container`` error (a full disk) mid-checkpoint."""
    from emkit.errors import StorageError

    model, opt = _two_checkpoints(tmp_path)

    def full_disk(obj, path, *args, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"PK\x03\x04 half")
        raise RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 64 vs 0")

    monkeypatch.setattr(checkpoint.torch, "save", full_disk)
    with pytest.raises(StorageError) as err:
        checkpoint.save_checkpoint(tmp_path, step=3, modules={"g": model}, optimizers={"g": opt}, extra={})
    text = str(err.value)
    assert "\n" not in text and "ckpt-00000003.state.pt" in text and "write" in text
    monkeypatch.undo()
    assert not list(tmp_path.glob(".*.tmp"))
    assert json.loads((tmp_path / "latest.json").read_text())["step"] == 2
    state, _ = _load(tmp_path)
    assert state["step"] == 2


@pytest.mark.parametrize(("code", "words"), [(errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only"),
                                             (errno.EACCES, "permission denied")])
def test_os_errors_while_writing_name_the_file_and_the_cause(tmp_path, monkeypatch, code, words):
    import os

    from emkit.storage.atomic import write_text_atomic
    from emkit.errors import StorageError

    target = tmp_path / "metrics.csv"
    target.write_text("old")

    def failing_replace(src, dst):
        raise OSError(code, os.strerror(code), str(dst))

    monkeypatch.setattr("emkit.storage.atomic.os.replace", failing_replace)
    with pytest.raises(StorageError) as err:
        write_text_atomic(target, "new")
    text = str(err.value)
    assert text.startswith(f"Cannot write {target}") and words in text and "\n" not in text
    monkeypatch.undo()
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["metrics.csv"]
