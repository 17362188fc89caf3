"""Elastic restarts: a restarted torchrun worker group continues its own run folder.

torchrun's elastic agent (``--max-restarts=N``) restarts every worker with the same
command after one fails, setting ``TORCHELASTIC_RESTART_COUNT`` (> 0 after a restart) and
``TORCHELASTIC_RUN_ID`` (the rendezvous id: ``--rdzv_id``, or a fresh one per
``--standalone`` launch). A fresh run folder would start again from step 0 (as
``<name>-2``), so rank 0 marks every run folder it creates under torchrun with
``launch.json`` -- the run id and a digest of the command line -- and a restarted worker
resumes the newest unfinished folder in ``runs_dir`` whose mark matches, exactly as
``resume=<folder>`` would: from its newest complete checkpoint.

Every rank looks the folder up itself; the ranks' resolved configs are compared at start
(``agreement``), so a node that cannot see the folder (``runs_dir`` not on a shared
filesystem) stops with an error naming ``resume`` instead of training something else.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from emkit.storage.atomic import write_text_atomic

if TYPE_CHECKING:
    from emkit.config import ResolvedConfig

MARKER = "launch.json"
#: A finished run folder holds the exported generator (see engine/runs/weights.py).
FINISHED = "generator.safetensors"


def restart_count(environ: dict[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    try:
        return int(env.get("TORCHELASTIC_RESTART_COUNT", "0"))
    except ValueError:
        return 0


def run_id(environ: dict[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    return env.get("TORCHELASTIC_RUN_ID") or None


def command_digest(argv: list[str] | None = None) -> str:
    """Digest of this process's command line (a restart repeats it exactly)."""
    args = sys.argv[1:] if argv is None else argv
    return hashlib.sha256("\0".join(args).encode()).hexdigest()[:16]


def mark(run_dir: str | Path, environ: dict[str, str] | None = None, argv: list[str] | None = None) -> None:
    """Record which torchrun launch created ``run_dir`` (nothing outside torchrun)."""
    rid = run_id(environ)
    if rid is None:
        return
    record = {"run_id": rid, "command": command_digest(argv)}
    write_text_atomic(Path(run_dir) / MARKER, json.dumps(record, indent=1), create_parents=False)


def _marked(folder: Path) -> dict | None:
    try:
        record = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def launched_here(runs_dir: str | Path, environ: dict[str, str] | None = None,
                  argv: list[str] | None = None) -> Path | None:
    """The newest unfinished folder in ``runs_dir`` created by this launch's command, or None."""
    rid = run_id(environ)
    root = Path(runs_dir)
    if rid is None or not root.is_dir():
        return None
    wanted = {"run_id": rid, "command": command_digest(argv)}
    found = [p for p in root.iterdir() if p.is_dir() and not (p / FINISHED).exists() and _marked(p) == wanted]
    return max(found, key=lambda p: (p / MARKER).stat().st_mtime_ns, default=None)


def restarted_run(runs_dir: str | Path, environ: dict[str, str] | None = None,
                  argv: list[str] | None = None) -> Path | None:
    """The run folder a restarted worker group continues (None on a first attempt)."""
    if restart_count(environ) <= 0:
        return None
    return launched_here(runs_dir, environ, argv)


def record_restart(cfg: ResolvedConfig, run_dir: Path) -> None:
    """Make a restart's config say which folder it resumes (``resume``, as ``resume=`` would),
    so the ranks' config check sees a rank that found another folder or none."""
    cfg.run.resume = str(run_dir)
    cfg.refresh_tree()
    if os.environ.get("RANK", "0") == "0":
        print(f"elastic restart {restart_count()}: continuing {run_dir} from its newest checkpoint",
              file=sys.stderr, flush=True)
