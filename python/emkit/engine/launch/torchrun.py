"""``launcher=torchrun``: run the same command again under torchrun, on one machine or several.

* one machine (``nodes=1``, no ``rdzv_endpoint``): ``torchrun --standalone
  --nproc_per_node=<devices>``;
* several machines: every machine runs the same ``emkit run ... launcher=torchrun
  devices=<per machine> nodes=<N> rdzv_endpoint=<host:port>``; emkit passes torchrun a
  c10d rendezvous at that endpoint (hosted by the machine the address names), a
  rendezvous id derived from the command (the same on every machine) and
  ``rdzv_timeout`` as the time to wait for all machines;
* ``max_restarts=N``: torchrun's elastic agent restarts the processes after a failure and
  they continue the run folder (``engine/runtime/elastic.py``).

A machine that is not the rendezvous host first checks that the endpoint accepts
connections, and stops after ``rdzv_timeout`` with one line naming it (torchrun itself
retries for two minutes and ends in a traceback); a rendezvous that never completes --
another machine never joined -- is reported the same way.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import subprocess
import sys
import threading
import time
from typing import IO, Any

from emkit.engine.runtime.distributed import started_by_torchrun
from emkit.errors import ConfigError, DistributedError

#: Command-line keys that describe the launch itself, not the training.
LAUNCH_KEYS = ("launcher", "devices", "nodes", "rdzv_endpoint", "rdzv_timeout", "max_restarts")


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """``host:port`` -> (host, port), refusing anything else with one line."""
    host, sep, port = str(endpoint).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"rdzv_endpoint={endpoint!r}: expected host:port, e.g. node0.example:29500")
    return host.strip("[]"), int(port)


def check_settings(run: Any) -> list[str]:
    """Refuse a multi-machine launch without an endpoint; warn about settings that do nothing."""
    warnings = []
    if run.launcher == "torchrun" and run.nodes > 1 and not run.rdzv_endpoint:
        raise ConfigError(f"nodes={run.nodes} needs rdzv_endpoint=<host:port> of the machine that hosts the "
                          "rendezvous (the same on every machine)")
    if run.rdzv_endpoint:
        split_endpoint(run.rdzv_endpoint)
    if run.launcher != "torchrun" and not started_by_torchrun():  # workers get launcher=none
        unused = [k for k, default in (("nodes", 1), ("rdzv_endpoint", None), ("max_restarts", 0))
                  if getattr(run, k) != default]
        if unused:
            warnings.append(f"{', '.join(unused)} only apply with launcher=torchrun; ignored")
    return warnings


def is_local(host: str) -> bool:
    """Whether ``host`` names this machine (torchrun hosts the rendezvous there)."""
    if host == "localhost":
        return True
    try:
        if ipaddress.ip_address(host).is_loopback:
            return True
    except ValueError:
        pass
    if host in (socket.gethostname(), socket.getfqdn()):
        return True
    try:
        mine = set(socket.gethostbyname_ex(socket.gethostname())[2])
        resolved = socket.gethostbyname(host)
    except OSError:
        return False
    return resolved in mine or ipaddress.ip_address(resolved).is_loopback


def wait_for_endpoint(endpoint: str, timeout: float) -> None:
    """Return once ``endpoint`` accepts a connection; raise after ``timeout`` seconds."""
    host, port = split_endpoint(endpoint)
    deadline = time.monotonic() + timeout
    reason = "no answer"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise DistributedError(
                f"cannot reach the rendezvous at {endpoint} within {timeout:g} s ({reason}): start the run on "
                f"{host} first (it hosts the rendezvous), or check rdzv_endpoint, the port and the firewall")
        try:
            with socket.create_connection((host, port), timeout=min(left, 5.0)):
                return
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


def rendezvous_id(overrides: list[str], config_files: list[str]) -> str:
    """The same id on every machine that runs the same command."""
    text = "\0".join([*sorted(overrides), *config_files])
    return "emkit-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def command(run: Any, overrides: list[str], config_files: list[str]) -> list[str]:
    """The torchrun command that runs ``emkit run`` with these overrides in every process."""
    keep = [o for o in overrides if o.split("=", 1)[0] not in LAUNCH_KEYS]
    if run.nodes > 1 or run.rdzv_endpoint:
        where = [f"--nnodes={run.nodes}", "--rdzv_backend=c10d", f"--rdzv_endpoint={run.rdzv_endpoint}",
                 f"--rdzv_id={rendezvous_id(keep, config_files)}", f"--rdzv_conf=join_timeout={run.rdzv_timeout}"]
    else:
        where = ["--standalone"]
    cmd = [sys.executable, "-m", "torch.distributed.run", *where, f"--nproc_per_node={run.devices}",
           f"--max-restarts={run.max_restarts}", "-m", "emkit", "run", *keep, "launcher=none",
           f"devices={run.devices}"]
    for f in config_files:
        cmd += ["--config", f]
    return cmd


def _relay(stream: IO[str], seen: list[str]) -> None:
    """Copy torchrun's stderr through, remembering rendezvous failures."""
    for line in stream:
        sys.stderr.write(line)
        seen += [name for name in ("RendezvousTimeoutError", "RendezvousConnectionError") if name in line]
    sys.stderr.flush()


def relaunch(run: Any, overrides: list[str], config_files: list[str]) -> int:
    """Run the command under torchrun; return its exit status (rendezvous failures raise)."""
    if run.nodes > 1 and not is_local(split_endpoint(run.rdzv_endpoint)[0]):
        wait_for_endpoint(run.rdzv_endpoint, run.rdzv_timeout)
    cmd = command(run, overrides, config_files)
    print("launching:", " ".join(cmd), flush=True)
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, errors="replace")
    seen: list[str] = []
    relay = threading.Thread(target=_relay, args=(proc.stderr, seen), daemon=True)
    relay.start()
    code = proc.wait()
    relay.join(timeout=5)
    if code and seen:
        raise DistributedError(
            f"the rendezvous at {run.rdzv_endpoint or 'this machine'} did not complete within {run.rdzv_timeout} s "
            f"({run.nodes} machine(s) x {run.devices} process(es) expected; torchrun: {seen[-1]}): start the same "
            "command on every machine, or raise rdzv_timeout")
    return code
