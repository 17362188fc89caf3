"""OS failures (disk full, read-only, permissions, missing folders) end as one line, exit 2."""

from __future__ import annotations

import errno
import os

import pytest

from emkit.errors import EmkitError, StorageError
from emkit.storage.oserrors import as_user_errors, describe, storage_operation
from run_support import run_cli

TINY = [
    "pretext=pix2pix", "generator=unet", "generator.blocks=2", "generator.width=4", "pretext.crop=32",
    "pretext.d_width=8", "data=synthetic-cem", "data.size=64", "data.length=8", "data.val_length=2",
    "train.batch_size=4", "train.epochs=1", "train.device=cpu",
]


@pytest.mark.parametrize(("code", "hint"), [
    (errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only"), (errno.EACCES, "permission denied"),
    (errno.ENOENT, "does not exist"), (errno.EDQUOT, "quota"),
])
def test_describe_names_operation_path_and_cause(code, hint):
    exc = OSError(code, os.strerror(code), "/data/run/metrics.csv")
    line = describe(exc, "write", None)
    assert line.startswith("Cannot write /data/run/metrics.csv: ") and hint in line and "\n" not in line


def test_describe_without_operation_names_the_emkit_function(tmp_path):
    from emkit.engine.runs.metrics_log import MetricsLog

    (tmp_path / "metrics.csv").mkdir()  # a folder where the log file should be
    try:
        MetricsLog(tmp_path / "metrics.csv")
    except OSError as exc:
        line = describe(exc)
    assert line.startswith("File system error in emkit.engine.runs.metrics_log.__init__ on ")
    assert str(tmp_path / "metrics.csv") in line and "folder, not a file" in line
    bare = describe(OSError(errno.EROFS, "Read-only file system", "/ro/out.tif"))
    assert bare == ("File system error on /ro/out.tif: Read-only file system -- the file system is "
                    "read-only; choose a writable folder")


def test_torch_stream_writer_failure_is_recognised():
    exc = RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 4096 vs 4032")
    assert "disk full" in describe(exc, "write", "/r/ckpt.state.pt")
    assert describe(RuntimeError("some other bug")) is None
    assert describe(ValueError("x")) is None


def test_storage_operation_and_as_user_errors_wrap_only_os_failures(tmp_path):
    with pytest.raises(StorageError, match="Cannot create run folder"):
        with storage_operation("create run folder", tmp_path / "x"):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(tmp_path / "x"))
    with pytest.raises(KeyError):
        with as_user_errors():
            raise KeyError("not an OS error")
    with pytest.raises(StorageError):
        with as_user_errors():
            raise PermissionError(errno.EACCES, "Permission denied", "/root/x")
    assert issubclass(StorageError, EmkitError) and issubclass(StorageError, OSError)


def test_main_turns_an_os_error_anywhere_into_one_line(monkeypatch, capsys):
    import emkit.config

    def broken(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "/scratch/runs/x/metrics.csv")

    monkeypatch.setattr(emkit.config, "resolve", broken)
    code, _, err = run_cli(["config", "show", "generator=unet"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "/scratch/runs/x/metrics.csv" in err and "disk is full" in err
    assert "Traceback" not in err


def test_unwritable_runs_dir_is_one_line(tmp_path, capsys, monkeypatch):
    """``runs_dir=/proc/emkit``: the folder cannot be created (a real failure, not a mock)."""
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["run", *TINY, "runs_dir=/proc/emkit"], capsys)
    assert code == 2, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: Cannot create runs folder /proc/emkit") and "Traceback" not in err
    # the real cause: /proc exists, nothing can be created in it (not "a folder on the path does not exist")
    assert last.endswith("-- /proc is on a proc file system, where nothing can be created; choose another folder")


def test_path_cause_names_the_missing_folder_or_what_blocks_the_write(tmp_path, monkeypatch):
    from emkit.storage import oserrors

    try:
        open(tmp_path / "gone" / "deeper" / "metrics.csv", "w")
    except FileNotFoundError as exc:
        line = describe(exc, "write")
    assert line.endswith(f"-- the folder {tmp_path / 'gone'} does not exist")
    (tmp_path / "file").write_text("x")
    blocked = oserrors.path_cause(tmp_path / "file" / "x" / "y", errno.ENOENT)
    assert blocked == f"{tmp_path / 'file'} is a file, not a folder"
    # a folder this user cannot write to (simulated: root may write anywhere)
    monkeypatch.setattr(oserrors.os, "access", lambda path, mode: False)
    assert oserrors.path_cause(tmp_path / "new", errno.EACCES) == (
        f"{tmp_path} exists but this user cannot write to it; choose a folder you can write to")
    monkeypatch.setattr(oserrors, "_mount_of", lambda path: ("ext4", {"ro", "relatime"}))
    assert oserrors.path_cause(tmp_path / "new", errno.EROFS) == (
        f"{tmp_path} is on a read-only file system; choose a writable folder")
    assert oserrors.path_cause(tmp_path / "new", errno.ENOSPC) is None  # other failures keep their hint


def test_errors_are_printed_without_markup(capsys, monkeypatch):
    """A hint like pip install 'emkit[export]' must reach the user intact."""
    import emkit.config

    def needs_extra(*args, **kwargs):
        raise EmkitError("ONNX export needs extra packages: pip install 'emkit[export]' [bold]x[/]")

    monkeypatch.setattr(emkit.config, "resolve", needs_extra)
    code, _, err = run_cli(["config", "show"], capsys)
    assert code == 2
    assert err == "error: ONNX export needs extra packages: pip install 'emkit[export]' [bold]x[/]\n"


def test_option_spelling_suggests_key_value(capsys):
    code, _, err = run_cli(["run", "--epochs", "5", "pretext=pix2pix"], capsys)
    assert code == 2 and "did you mean train.epochs=5?" in err
    code, _, err = run_cli(["config", "show", "--batch-size=4"], capsys)
    assert code == 2 and "did you mean train.batch_size=4?" in err
    code, _, err = run_cli(["run", "--seed", "3"], capsys)
    assert code == 2 and "did you mean seed=3?" in err
    code, _, err = run_cli(["run", "--generatr", "hrnet"], capsys)
    assert code == 2 and "did you mean generator=hrnet?" in err
