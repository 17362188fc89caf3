"""A restarted worker group finds the run folder its launch created, and nothing else."""

from __future__ import annotations

import time

from emkit.engine.runtime import elastic

ARGV = ["run", "pretext=pix2pix", "name=el"]


def env(restart: int, run_id: str = "rdzv-1") -> dict[str, str]:
    return {"TORCHELASTIC_RESTART_COUNT": str(restart), "TORCHELASTIC_RUN_ID": run_id}


def folder(runs, name: str, run_id: str = "rdzv-1", argv=ARGV, finished: bool = False):
    path = runs / name
    path.mkdir(parents=True)
    elastic.mark(path, env(0, run_id), argv)
    if finished:
        (path / elastic.FINISHED).write_bytes(b"")
    time.sleep(0.01)  # distinct marker times: the newest wins
    return path


def test_a_restart_resumes_the_newest_unfinished_folder_of_its_own_launch(tmp_path):
    runs = tmp_path / "runs"
    folder(runs, "older")
    newest = folder(runs, "el")
    folder(runs, "done", finished=True)
    folder(runs, "other-launch", run_id="rdzv-2")
    folder(runs, "other-command", argv=[*ARGV, "seed=1"])
    (runs / "unmarked").mkdir()
    assert elastic.restarted_run(runs, env(1), ARGV) == newest


def test_a_first_attempt_or_a_run_outside_torchrun_never_resumes(tmp_path):
    runs = tmp_path / "runs"
    folder(runs, "el")
    assert elastic.restarted_run(runs, env(0), ARGV) is None
    assert elastic.restarted_run(runs, {}, ARGV) is None
    assert elastic.restarted_run(tmp_path / "missing", env(1), ARGV) is None
    plain = tmp_path / "plain"
    plain.mkdir()
    elastic.mark(plain, {}, ARGV)  # not under torchrun: no marker
    assert not (plain / elastic.MARKER).exists()
