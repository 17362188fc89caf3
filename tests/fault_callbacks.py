"""Test-only callbacks on the public protocol, and a driver that trains with them in a subprocess.

``KillAtStep`` SIGKILLs the process after step N (resume after a real kill);
``TermAtStep`` sends the process a SIGTERM (what a scheduler sends) after step N, so a
graceful stop happens at a known step instead of whenever a polling test gets round to it;
``DumpRankWeights`` makes every rank write its final generator weights to
``DIR/rank<N>.safetensors`` (DDP ranks must agree). ``WriteLog`` records, in order, every
file the process opens for writing, renames into place or deletes under a folder (one JSON
line per event, through Python's audit hooks: emkit writes through ``open``/``os.open``
and its atomic renames, so the log gives the order of writes without file timestamps).
The driver is this file run as a script -- ``emkit.train(<words>, callbacks=[...])``,
exactly what a program would do; an ``EmkitError`` or a stopped run ends it with one line
on stderr and exit code 2::

    python tests/fault_callbacks.py --kill-at 5 -- pretext=pix2pix ...
    python -m torch.distributed.run --standalone --nproc_per_node=2 tests/fault_callbacks.py \\
        --dump-rank-weights DIR -- pretext=pix2pix ...

``run_driver`` runs it the way the tests need (one torch thread per process).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import emkit

HERE = Path(__file__).resolve()


class KillAtStep(emkit.Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step(self, info: Any) -> None:
        if info.step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)  # die like a killed job: no cleanup at all


class TermAtStep(emkit.Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step(self, info: Any) -> None:
        if info.step == self.step:
            signal.raise_signal(signal.SIGTERM)  # handled before this hook returns to the loop


#: Flags of ``os.open`` that mean the file is written.
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class WriteLog:
    """Logs writes, renames and deletions under ``root`` to ``log`` from the moment it is built."""

    def __init__(self, root: str | Path, log: str | Path) -> None:
        self.root = Path(root).resolve()
        self.log = open(log, "a", buffering=1)
        sys.addaudithook(self._hook)

    def _relative(self, path: Any) -> Optional[str]:
        if isinstance(path, int):
            return None
        try:
            return Path(os.fsdecode(path)).resolve().relative_to(self.root).as_posix()
        except (TypeError, ValueError, OSError):
            return None

    def _record(self, event: str, path: Any) -> None:
        rel = self._relative(path)
        if rel is not None:
            self.log.write(json.dumps([event, rel]) + "\n")

    def _hook(self, event: str, args: tuple) -> None:
        try:
            if event == "open" and len(args) >= 3:
                path, mode, flags = args[:3]
                writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & _WRITE_FLAGS)
                if writes:
                    self._record("write", path)
            elif event == "os.rename":
                self._record("rename", args[1])
            elif event == "os.remove" and os.path.lexists(os.fsdecode(args[0])):
                self._record("remove", args[0])
        except Exception:  # noqa: BLE001 - an audit hook must never break the operation it watches
            pass


class DumpRankWeights(emkit.Callback):
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def on_end(self, info: Any) -> None:
        from safetensors.torch import save_file

        self.folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in info.generator.state_dict().items()}
        save_file(state, str(self.folder / f"rank{info.rank}.safetensors"))


def run_driver(words: list[str], cwd: Path, *, kill_at: Optional[int] = None, dump: Optional[Path] = None,
               term_at: Optional[int] = None, write_log: Optional[tuple[Path, Path]] = None,
               nproc: int = 0, timeout: int = 300) -> subprocess.CompletedProcess:
    """Train ``words`` through this driver in ``cwd`` (under torchrun with ``nproc`` > 0);
    ``write_log``: (folder to watch, log file)."""
    options = [*(["--kill-at", str(kill_at)] if kill_at is not None else []),
               *(["--term-at", str(term_at)] if term_at is not None else []),
               *(["--write-log", str(write_log[0]), str(write_log[1])] if write_log is not None else []),
               *(["--dump-rank-weights", str(dump)] if dump is not None else [])]
    launcher = ([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
                if nproc else [sys.executable])
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([*launcher, str(HERE), *options, "--", *words], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kill-at", type=int, default=None)
    ap.add_argument("--term-at", type=int, default=None)
    ap.add_argument("--write-log", nargs=2, default=None, metavar=("ROOT", "LOG"))
    ap.add_argument("--dump-rank-weights", default=None)
    ap.add_argument("words", nargs="*")
    args = ap.parse_args()
    if args.write_log:
        WriteLog(*args.write_log)
    callbacks: list[Any] = []
    if args.kill_at is not None:
        callbacks.append(KillAtStep(args.kill_at))
    if args.term_at is not None:
        callbacks.append(TermAtStep(args.term_at))
    if args.dump_rank_weights:
        callbacks.append(DumpRankWeights(args.dump_rank_weights))
    try:
        run = emkit.train(*args.words, callbacks=callbacks)
    except emkit.EmkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    if getattr(run, "stopped", False):
        print(f"stopped: {run.stop_reason}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
