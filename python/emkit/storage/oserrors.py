"""Operating-system failures (disk full, read-only, permissions, missing folders) as one line.

``describe`` turns an ``OSError`` -- or torch's ``[enforce fail at inline_container.cc]``
``RuntimeError``, which is how ``torch.save`` reports a full disk -- into one line naming
the operation and the path; ``StorageError`` carries it. Writers that know what they were
doing wrap their work in ``storage_operation("write checkpoint", path)``; the CLI wraps
every command in ``as_user_errors()`` so an OS failure anywhere ends with that line and
exit code 2 instead of a traceback. Writes in emkit are atomic (storage/atomic.py), so a
run stopped this way keeps its last complete checkpoint and can be resumed.
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
    hint = HINTS.get(exc.errno or -1)
    op = f"Cannot {operation}" if operation else f"File system error{_frame_operation(exc)} on"
    line = f"{op}" + (f" {target!s}" if target is not None else "") + f": {reason}"
    if exc.filename2 is not None:
        line += f" (other path: {exc.filename2})"
    return line + (f" -- {hint}" if hint else "")


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
