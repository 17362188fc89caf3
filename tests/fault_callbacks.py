"""Test-only trainer callbacks for subprocess runs (loaded through EMKIT_TRAIN_CALLBACKS).

``fault_callbacks:KillAtStep`` SIGKILLs the process after step ``EMKIT_FAULT_KILL_AT_STEP``
(resume after a real kill); ``fault_callbacks:TermAtStep`` sends the process a SIGTERM (what
a scheduler sends) after step ``EMKIT_FAULT_TERM_AT_STEP``, so a graceful stop happens at a
known step instead of whenever a polling test gets round to it; ``fault_callbacks:WriteLog``
records, in order, every file the process opens for writing, renames into place or deletes
under ``EMKIT_WRITE_LOG_ROOT`` (one JSON line per event in ``EMKIT_WRITE_LOG``, through
Python's audit hooks: emkit writes through ``open``/``os.open`` and its atomic renames, so
the log shows the order of writes without relying on file timestamps);
``fault_callbacks:DumpRankWeights`` makes every rank write its final generator weights to
``EMKIT_DUMP_RANK_WEIGHTS/rank<N>.safetensors`` (DDP ranks must agree). ``callback_env``
gives the environment a subprocess run needs for them.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from emkit.engine.loop.callbacks import ENV_VAR, TrainCallback

HERE = Path(__file__).resolve().parent


def callback_env(*factories: str, **values: str) -> dict[str, str]:
    """Environment that loads ``factories`` (names in this module) with ``values`` set."""
    path = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH", "")]))
    return {ENV_VAR: ",".join(f"fault_callbacks:{f}" for f in factories), "PYTHONPATH": path, **values}


class KillAtStep(TrainCallback):
    def __init__(self) -> None:
        self.step = int(os.environ["EMKIT_FAULT_KILL_AT_STEP"])

    def on_step_end(self, run: Any) -> None:
        if run.step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)  # die like a killed job: no cleanup at all


class TermAtStep(TrainCallback):
    def __init__(self) -> None:
        self.step = int(os.environ["EMKIT_FAULT_TERM_AT_STEP"])

    def on_step_end(self, run: Any) -> None:
        if run.step == self.step:
            signal.raise_signal(signal.SIGTERM)  # handled before this hook returns to the loop


#: Flags of ``os.open`` that mean the file is written.
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class WriteLog(TrainCallback):
    """Installs the audit hook (once per process) when the trainer builds its callbacks."""

    def __init__(self) -> None:
        self.root = Path(os.environ["EMKIT_WRITE_LOG_ROOT"]).resolve()
        self.log = open(os.environ["EMKIT_WRITE_LOG"], "a", buffering=1)
        sys.addaudithook(self._hook)

    def _relative(self, path: Any) -> str | None:
        if isinstance(path, int):
            return None
        try:
            full = Path(os.fsdecode(path)).resolve()
            return full.relative_to(self.root).as_posix()
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


class DumpRankWeights(TrainCallback):
    def __init__(self) -> None:
        self.folder = Path(os.environ["EMKIT_DUMP_RANK_WEIGHTS"])

    def on_train_end(self, run: Any) -> None:
        from safetensors.torch import save_file

        self.folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in run.objective.generator.state_dict().items()}
        save_file(state, str(self.folder / f"rank{run.dist_info.rank}.safetensors"))
