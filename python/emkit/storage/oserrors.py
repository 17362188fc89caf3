"""Operating-system failures (disk full, read-only, permissions, missing folders) as one line.

``describe`` turns an ``OSError`` -- or torch's ``[enforce fail at inline_container.cc]``
``RuntimeError``, which is how ``torch.save`` reports a full disk -- into one line naming
the operation and the path; ``StorageError`` carries it. Writers that know what they were
doing wrap their work in ``storage_operation("write checkpoint", path)``; the CLI wraps
every command in ``as_user_errors()`` so an OS failure anywhere ends with that line and
exit code 2 instead of a traceback. Writes in emkit are atomic (storage/atomic.py), so a
run stopped this way keeps its last complete checkpoint and can be resumed.

The error number alone can mislead: creating ``/proc/emkit`` fails with "No such file or
directory" although ``/proc`` exists (nothing can be created in a proc file system), and
a read-only folder says "permission denied" without naming the folder. For missing-path,
permission and read-only failures ``path_cause`` therefore looks at the nearest folder
of the path that exists and names what stops the write there: a file where a folder
should be, a special or read-only file system, a folder this user cannot write to -- or,
when nothing stops it, the first folder that is missing.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Iterator

from emkit.errors import EmkitError, StorageError

#: What the user can do about the common failures.
HINTS: dict[int, str] = {
    errno.ENOSPC: "the disk is full; free space (a stopped run can be resumed)",
    errno.EDQUOT: "the disk quota is exceeded; free space (a stopped run can be resumed)",
    errno.EROFS: "the file system is read-only; choose a writable folder",
    errno.EACCES: "permission denied; choose a folder you can write to",
    errno.EPERM: "operation not permitted; choose a folder you can write to",
    errno.ENOENT: "a folder on the path does not exist",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "the path is a folder, not a file",
}

TORCH_WRITE_FAILURE = "inline_container"
#: File systems in which nothing can be created (Linux ``/proc/self/mounts`` types).
SPECIAL_FILE_SYSTEMS = frozenset({"proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "debugfs", "tracefs",
                                  "securityfs", "configfs", "pstore", "bpf", "efivarfs", "fusectl", "mqueue"})
#: Error numbers ``path_cause`` explains.
PATH_ERRORS = frozenset({errno.ENOENT, errno.EACCES, errno.EPERM, errno.EROFS})


def _mount_of(path: Path) -> tuple[str, set[str]] | None:
    """(file-system type, mount options) of the mount holding ``path`` (Linux; None elsewhere)."""
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    real, best = os.path.realpath(path), None
    for line in lines:
        fields = line.split()
        if len(fields) < 4:
            continue
        point = fields[1].replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best[0])):
            best = (point, fields[2], set(fields[3].split(",")))
    return None if best is None else (best[1], best[2])


def path_cause(target: str | Path, code: int | None) -> str | None:
    """What really stops writing at ``target`` (see the module docstring), or None."""
    if code not in PATH_ERRORS:
        return None
    path = Path(os.path.abspath(target))
    existing = next((p for p in (path, *path.parents) if os.path.lexists(p)), None)
    if existing is None:
        return None
    missing = path if existing == path else next(p for p in (path, *path.parents) if p.parent == existing)
    if not existing.is_dir() and existing != path:
        return f"{existing} is a file, not a folder"
    mount = _mount_of(existing)
    if mount is not None and mount[0] in SPECIAL_FILE_SYSTEMS:
        return f"{existing} is on a {mount[0]} file system, where nothing can be created; choose another folder"
    if mount is not None and "ro" in mount[1]:
        return f"{existing} is on a read-only file system; choose a writable folder"
    if not os.access(existing, os.W_OK):
        return f"{existing} exists but this user cannot write to it; choose a folder you can write to"
    if code == errno.ENOENT and existing != path:
        return f"the folder {missing} does not exist"
    return None


def is_torch_write_failure(exc: BaseException) -> bool:
    """True for torch.save's C++ stream-writer failure (disk full while saving)."""
    return isinstance(exc, RuntimeError) and TORCH_WRITE_FAILURE in str(exc)


def _frame_operation(exc: BaseException) -> str:
    """`` in <innermost emkit function>`` of the traceback: names the operation when the
    failure was not raised inside ``storage_operation``."""
    name = ""
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith(("emkit", "emkit_")):
            name = f"{module}.{tb.tb_frame.f_code.co_name}"
        tb = tb.tb_next
    return f" in {name}" if name else ""


def describe(exc: BaseException, operation: str | None = None, path: str | Path | None = None) -> str | None:
    """One line for an OS-level failure, or None when ``exc`` is not one."""
    if is_torch_write_failure(exc):
        where = f" {path}" if path is not None else ""
        return (f"Cannot {operation or 'save a torch file'}{where}: writing failed "
                "(disk full or unwritable; a stopped run can be resumed)")
    if not isinstance(exc, OSError) or isinstance(exc, EmkitError):
        return None
    target = exc.filename if exc.filename is not None else path
    if isinstance(target, bytes):
        target = os.fsdecode(target)
    reason = exc.strerror or str(exc) or type(exc).__name__
    cause = _safe_cause(target, exc.errno)
    hint = cause or HINTS.get(exc.errno or -1)
    op = f"Cannot {operation}" if operation else f"File system error{_frame_operation(exc)} on"
    line = f"{op}" + (f" {target!s}" if target is not None else "") + f": {reason}"
    if exc.filename2 is not None:
        line += f" (other path: {exc.filename2})"
    return line + (f" -- {hint}" if hint else "")


def _safe_cause(target: object, code: int | None) -> str | None:
    """``path_cause`` that never raises (a message must not fail while explaining a failure)."""
    if not isinstance(target, (str, Path)):
        return None
    try:
        return path_cause(target, code)
    except (OSError, ValueError, StopIteration):
        return None


@contextlib.contextmanager
def storage_operation(operation: str, path: str | Path) -> Iterator[None]:
    """Re-raise OS/torch-save failures inside the block as one-line ``StorageError``s."""
    try:
        yield
    except (OSError, RuntimeError) as exc:
        line = describe(exc, operation, path)
        if line is None:
            raise
        raise StorageError(line) from exc


@contextlib.contextmanager
def as_user_errors() -> Iterator[None]:
    """For the CLI: any OS/torch-save failure escaping a command becomes a ``StorageError``."""
    try:
        yield
    except (OSError, RuntimeError) as exc:
        line = describe(exc)
        if line is None:
            raise
        raise StorageError(line) from exc
