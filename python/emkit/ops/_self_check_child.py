"""Child process of the CUDA self-check (emkit.ops.self_check): runs the cases, prints the outputs.

Started as a script (``python .../_self_check_child.py``) with the cases as JSON on stdin;
imports only ``emkit._C`` -- no torch -- so it starts in a fraction of a second and its
CUDA context is its own: a kernel that faults leaves the parent's context untouched.
Prints ``{"outputs": [[clean, degraded], ...]}`` (base64 bytes or null) on success; on a
CUDA or argument error prints the error on stderr and exits with status 3.
"""

from __future__ import annotations

import base64
import json
import sys


def run_case(native: object, device: int, case: dict) -> list[str | None]:
    b, c, h, w = case["shape"]
    clean, degraded = native.degrade_cuda_host_roundtrip(  # type: ignore[attr-defined]
        base64.b64decode(case["images"]), case["in_dtype"], b, c, h, w, base64.b64decode(case["params"]),
        case["size"][0], case["size"][1], case["clean"], case["degraded"], case["out_dtype"], case["seed"],
        case["degrade"], case["nearest"], case["seed_on_device"], device)
    return [base64.b64encode(o).decode() if o is not None else None for o in (clean, degraded)]


def main() -> int:
    request = json.load(sys.stdin)
    try:
        from emkit import _C

        outputs = [run_case(_C, request["device"], case) for case in request["cases"]]
    except (ImportError, RuntimeError, ValueError, AttributeError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    json.dump({"outputs": outputs}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
