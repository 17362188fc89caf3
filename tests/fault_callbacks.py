"""Test-only callbacks on the public protocol, and a driver that trains with them in a subprocess.

``KillAtStep`` SIGKILLs the process after step N (resume after a real kill);
``DumpRankWeights`` makes every rank write its final generator weights to
``DIR/rank<N>.safetensors`` (DDP ranks must agree). The driver is this file run as a
script -- ``emkit.train(<words>, callbacks=[...])``, exactly what a program would do::

    python tests/fault_callbacks.py --kill-at 5 -- pretext=pix2pix ...
    python -m torch.distributed.run --standalone --nproc_per_node=2 tests/fault_callbacks.py \\
        --dump-rank-weights DIR -- pretext=pix2pix ...

``run_driver`` runs it the way the tests need (one torch thread per process).
"""

from __future__ import annotations

import argparse
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


class DumpRankWeights(emkit.Callback):
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def on_end(self, info: Any) -> None:
        from safetensors.torch import save_file

        self.folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in info.generator.state_dict().items()}
        save_file(state, str(self.folder / f"rank{info.rank}.safetensors"))


def run_driver(words: list[str], cwd: Path, *, kill_at: Optional[int] = None, dump: Optional[Path] = None,
               nproc: int = 0, timeout: int = 300) -> subprocess.CompletedProcess:
    """Train ``words`` through this driver in ``cwd`` (under torchrun with ``nproc`` > 0)."""
    options = [*(["--kill-at", str(kill_at)] if kill_at is not None else []),
               *(["--dump-rank-weights", str(dump)] if dump is not None else [])]
    launcher = ([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
                if nproc else [sys.executable])
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([*launcher, str(HERE), *options, "--", *words], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kill-at", type=int, default=None)
    ap.add_argument("--dump-rank-weights", default=None)
    ap.add_argument("words", nargs="*")
    args = ap.parse_args()
    callbacks: list[Any] = []
    if args.kill_at is not None:
        callbacks.append(KillAtStep(args.kill_at))
    if args.dump_rank_weights:
        callbacks.append(DumpRankWeights(args.dump_rank_weights))
    emkit.train(*args.words, callbacks=callbacks)


if __name__ == "__main__":
    main()
