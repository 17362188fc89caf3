"""Record files skipped under ``on_error=skip`` so the run can report them at the end.

Skips happen inside DataLoader worker processes, whose memory the main process never
sees. ``ProblemLog`` therefore appends each problem as one line to a small file shared by
all processes (a single ``O_APPEND`` write per line, atomic for short lines), and
``items()`` reads it back. The file lives in the temp directory and is removed when the
creating process drops the log.
"""

from __future__ import annotations

import collections
import os
import tempfile
from typing import Iterable


class ProblemLog:
    """(file, reason) pairs, deduplicated, visible across forked/spawned workers."""

    def __init__(self) -> None:
        fd, self.path = tempfile.mkstemp(prefix="emkit-problems-", suffix=".tsv")
        os.close(fd)
        self._owner = os.getpid()
        self._seen: set[tuple[str, str]] = set()

    def add(self, file: str, reason: str) -> None:
        item = (str(file), " ".join(str(reason).split()))
        if item in self._seen:
            return
        self._seen.add(item)
        line = (item[0].replace("\t", " ") + "\t" + item[1] + "\n").encode("utf-8", "replace")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError:  # the log is best effort; the in-memory set still has it
            pass

    def items(self) -> list[tuple[str, str]]:
        found: dict[tuple[str, str], None] = {}
        try:
            with open(self.path, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    file, _, reason = line.rstrip("\n").partition("\t")
                    found[(file, reason)] = None
        except OSError:
            pass
        for item in sorted(self._seen):
            found.setdefault(item, None)
        return list(found)

    def __len__(self) -> int:
        return len(self.items())

    def __getstate__(self) -> dict:
        return {"path": self.path, "_owner": self._owner, "_seen": set(self._seen)}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __del__(self) -> None:
        if getattr(self, "_owner", None) == os.getpid():
            try:
                os.unlink(self.path)
            except OSError:
                pass


def summarize(problems: Iterable[tuple[str, str]], *, examples: int = 3) -> str:
    """One paragraph: how many files were skipped, grouped by reason, with examples."""
    items = list(problems)
    if not items:
        return "no files skipped"
    by_reason: dict[str, list[str]] = collections.defaultdict(list)
    for file, reason in items:
        by_reason[_reason_class(reason)].append(file)
    parts = []
    for reason, files in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
        shown = ", ".join(files[:examples]) + (", ..." if len(files) > examples else "")
        parts.append(f"{len(files)} x {reason} ({shown})")
    noun = "file" if len(items) == 1 else "files"
    return f"{len(items)} {noun} skipped: " + "; ".join(parts)


def _reason_class(reason: str) -> str:
    """The reason without file-specific detail (text in parentheses, numbers of pixels)."""
    head = reason.split(" (", 1)[0]
    words = head.split()
    if words and words[0].isdigit():  # "12 NaN/non-finite pixel values"
        head = " ".join(words[1:])
    return head
