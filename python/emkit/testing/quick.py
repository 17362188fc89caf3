"""The quick contract check behind ``emkit plugins validate`` (without ``--full``).

Quick = the checks every kind shares (registration, config round trip, public imports)
plus *construction*: the plugin builds from its default ``Config`` -- a generator from
its defaults, a task alone, a pretext around the tiny test generator, a dataset's train
split from the tiny test values. It catches what breaks most plugins (import errors,
bad configs, a constructor that fails) in seconds; the training-step, determinism and
checkpoint checks of ``runner`` take minutes for all built-ins and run with ``--full``.
"""

from __future__ import annotations

from emkit.testing import harness

#: Check ids of ``runner.contract_checks`` that the quick mode runs.
QUICK_CHECKS = ("registration", "config", "imports")


def check_construction(kind: str, name: str) -> None:
    """Build plugin ``name`` of ``kind`` from its defaults (``ContractSkip`` when data is missing)."""
    from emkit import registry

    if kind == "generator":
        harness.make_generator(name)
    elif kind == "task":
        registry.load(kind, name)(harness.build_config(kind, name))
    elif kind == "pretext":
        registry.load(kind, name)(harness.build_config(kind, name), harness.make_generator())
    elif kind == "data":
        from emkit.testing.data_checks import build_split

        build_split(name, "train")
    else:
        raise ValueError(f"unknown plugin kind {kind!r}; expected one of: {', '.join(registry.KINDS)}")


def quick_problems(kind: str, name: str) -> tuple[list[str], list[str]]:
    """``(failures, skipped)`` of the quick checks, as ``"<check>: <message>"`` lines."""
    from emkit.testing.runner import ContractCheck, contract_checks, run_checks

    checks = [c for c in contract_checks(kind, name) if c.check in QUICK_CHECKS]
    checks.append(ContractCheck(kind, name, "construction", lambda n: check_construction(kind, n)))
    return run_checks(checks)


def quick_validate(kind: str, name: str) -> list[str]:
    """Failures of the quick checks (empty when the plugin imports, configures and builds)."""
    return quick_problems(kind, name)[0]
