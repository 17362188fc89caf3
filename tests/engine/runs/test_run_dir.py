"""Run folders: name rules, atomic creation under a race, file modes, stale temp files."""

from __future__ import annotations

import multiprocessing as mp
import os
import stat
from pathlib import Path

import pytest

from emkit.config import resolve
from emkit.engine.runs import run_dir
from emkit.storage.atomic import is_temp_name, remove_stale_temps, write_text_atomic
from emkit.errors import ConfigError

PRETEXT = ["pretext=pix2pix", "generator=unet", "data=synthetic-cem"]


@pytest.mark.parametrize("name", ["../../x", "/tmp/abs", "a/b", "..", ".", "a\\b", "~root", "x\ny", "a" * 300])
def test_bad_names_are_refused(name):
    with pytest.raises(ConfigError, match="Invalid value for 'name'"):
        run_dir.check_name(name)


def test_create_refuses_a_name_that_escapes_runs_dir(tmp_path):
    cfg = resolve([*PRETEXT, f"runs_dir={tmp_path / 'runs'}"])
    cfg.run.name = "../escaped"  # set after resolution: create() checks again
    with pytest.raises(ConfigError):
        run_dir.create(cfg)
    assert not (tmp_path / "escaped").exists()


def test_taken_names_get_a_suffix(tmp_path):
    cfg = resolve([*PRETEXT, f"runs_dir={tmp_path}", "name=exp"])
    (tmp_path / "exp").mkdir()  # even an empty folder is never shared
    first = run_dir.create(cfg)
    second = run_dir.create(cfg)
    assert (first.name, second.name) == ("exp-2", "exp-3")
    assert (first / "config.yaml").is_file() and (first / "checkpoints").is_dir()


def _claim(args):
    base, name = args
    return str(run_dir.claim(Path(base), name))


def test_concurrent_processes_never_share_a_folder(tmp_path):
    """Eight processes claim the same name at once: eight different folders."""
    with mp.get_context("spawn").Pool(4) as pool:
        got = pool.map(_claim, [(str(tmp_path), "race")] * 8)
    assert len(set(got)) == 8
    assert sorted(Path(p).name for p in got) == ["race"] + [f"race-{i}" for i in range(2, 9)]


def test_run_files_get_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        cfg = resolve([*PRETEXT, f"runs_dir={tmp_path}", "name=modes"])
        path = run_dir.create(cfg)
        from torch import nn

        from emkit.engine.runs.checkpoint import save_checkpoint
        from emkit.engine.runs.weights import export_generator

        save_checkpoint(path / "checkpoints", step=1, modules={"m": nn.Linear(2, 2)}, optimizers={}, extra={})
        export_generator(path, {"name": "unet", "config": {}}, nn.Linear(2, 2))
    finally:
        os.umask(old)
    files = [p for p in path.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".yaml", ".safetensors", ".pt", ".json"}
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
    assert set(modes.values()) == {0o644}, modes


def test_stale_temp_files_are_removed(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    stale = [tmp_path / "checkpoints" / ".ckpt-00000004.safetensors.abc123.tmp", tmp_path / ".metrics.csv.x9.tmp"]
    for p in stale:
        p.write_bytes(b"half")
    keep = [tmp_path / "notes.tmp", tmp_path / "checkpoints" / "ckpt-00000002.safetensors"]
    for p in keep:
        p.write_bytes(b"x")
    assert sorted(remove_stale_temps(tmp_path)) == sorted(stale)
    assert all(p.exists() for p in keep) and not any(p.exists() for p in stale)
    assert is_temp_name(".config.yaml.k2j3.tmp") and not is_temp_name("config.yaml")


def test_resume_clears_stale_temps(tmp_path, capsys):
    from emkit.engine.launch.start import prepare

    cfg = resolve([*PRETEXT, f"runs_dir={tmp_path}", "name=r"])
    path = run_dir.create(cfg)
    leftover = path / "checkpoints" / ".ckpt-00000003.state.pt.q1w2.tmp"
    leftover.write_bytes(b"")
    prepare([f"resume={path}"], [])
    assert not leftover.exists()
    assert "removed 1 unfinished temp file" in capsys.readouterr().err


def test_writes_never_recreate_a_deleted_run_folder(tmp_path):
    import shutil

    from torch import nn

    from emkit.engine.runs.checkpoint import save_checkpoint
    from emkit.errors import StorageError

    cfg = resolve([*PRETEXT, f"runs_dir={tmp_path}", "name=gone"])
    path = run_dir.create(cfg)
    shutil.rmtree(path)
    with pytest.raises(StorageError, match="gone"):
        save_checkpoint(path / "checkpoints", step=1, modules={"m": nn.Linear(2, 2)}, optimizers={}, extra={})
    with pytest.raises(StorageError):
        write_text_atomic(path / "metrics.csv", "x", create_parents=False)
    with pytest.raises(StorageError):
        run_dir.save_config(path, cfg)
    assert not path.exists()


def test_record_train_settings_updates_only_those_keys(tmp_path):
    import yaml

    from emkit.engine.runs.run_dir import CONFIG_FILE, record_train_settings

    saved = {"name": "x", "train": {"epochs": 3, "channels_last": None, "norm_stats": None}, "data": {"size": 64}}
    (tmp_path / CONFIG_FILE).write_text(yaml.safe_dump(saved, sort_keys=False))
    record_train_settings(tmp_path, {"channels_last": True, "norm_stats": "frozen"})
    tree = yaml.safe_load((tmp_path / CONFIG_FILE).read_text())
    assert tree["train"] == {"epochs": 3, "channels_last": True, "norm_stats": "frozen"}
    assert tree["name"] == "x" and tree["data"] == {"size": 64}
    stamp = (tmp_path / CONFIG_FILE).stat().st_mtime_ns
    record_train_settings(tmp_path, {"channels_last": True})  # already recorded: not rewritten
    assert (tmp_path / CONFIG_FILE).stat().st_mtime_ns == stamp
