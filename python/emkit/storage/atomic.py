"""Atomic file writes: write to a temp file in the same folder, fsync, then rename.

A reader (or a resumed run after SIGKILL) sees either the old file or the new one,
never a half-written one. Temp files are named ``.<name>.<random>.tmp``; a kill in the
middle of a write can leave one behind, and ``remove_stale_temps`` clears them when a run
starts or resumes. A failed write (disk full, read-only folder, the run folder deleted
under a running job) raises one-line ``StorageError`` naming the file; the previous
version of the file is untouched. New files get the permissions a plain ``open()`` would
give (0644 under the usual umask 022), not mkstemp's private 0600.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from emkit.storage.oserrors import storage_operation

TEMP_SUFFIX = ".tmp"


def default_mode() -> int:
    """``0o666`` minus the process umask: what ``open(path, "w")`` would create."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path: str | Path, *, create_parents: bool = True) -> Iterator[Path]:
    """Yield a temp path; on success it replaces ``path`` atomically, else it is removed.

    ``create_parents=False`` refuses to create missing folders: files inside a run folder
    use it, so a job never recreates a run folder the user has deleted.
    """
    path = Path(path)
    with storage_operation("write", path):
        if create_parents:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            yield tmp_path
            # Set after the writer ran: some writers (safetensors) replace the file and
            # would otherwise leave mkstemp's private 0600.
            os.chmod(tmp_path, default_mode())
            with open(tmp_path, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp_path, path)
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        finally:
            with contextlib.suppress(OSError):  # a read-only folder cannot even drop the temp
                tmp_path.unlink(missing_ok=True)


def write_atomic(path: str | Path, writer: Callable[[Path], None], *, create_parents: bool = True) -> None:
    """Call ``writer(tmp_path)`` and move the result to ``path`` atomically."""
    with atomic_path(path, create_parents=create_parents) as tmp:
        writer(tmp)


def write_text_atomic(path: str | Path, text: str, *, create_parents: bool = True) -> None:
    write_atomic(path, lambda p: p.write_text(text), create_parents=create_parents)


def is_temp_name(name: str) -> bool:
    """True for names ``atomic_path`` gives its temp files (``.<name>.<random>.tmp``)."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX) and name.count(".") >= 3


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete temp files left in ``folder`` (recursively) by writes that were killed."""
    removed: list[Path] = []
    root = Path(folder)
    if not root.is_dir():
        return removed
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if is_temp_name(name):
                stale = Path(dirpath) / name
                with contextlib.suppress(OSError):
                    stale.unlink()
                    removed.append(stale)
    return removed
