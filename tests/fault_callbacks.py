"""Test-only trainer callbacks for subprocess runs (loaded through EMKIT_TRAIN_CALLBACKS).

``fault_callbacks:KillAtStep`` SIGKILLs the process after step ``EMKIT_FAULT_KILL_AT_STEP``
(resume after a real kill); ``fault_callbacks:DumpRankWeights`` makes every rank write its
final generator weights to ``EMKIT_DUMP_RANK_WEIGHTS/rank<N>.safetensors`` (DDP ranks
must agree). ``callback_env`` gives the environment a subprocess run needs for them.
"""

from __future__ import annotations

import os
import signal
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


class DumpRankWeights(TrainCallback):
    def __init__(self) -> None:
        self.folder = Path(os.environ["EMKIT_DUMP_RANK_WEIGHTS"])

    def on_train_end(self, run: Any) -> None:
        from safetensors.torch import save_file

        self.folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in run.objective.generator.state_dict().items()}
        save_file(state, str(self.folder / f"rank{run.dist_info.rank}.safetensors"))
