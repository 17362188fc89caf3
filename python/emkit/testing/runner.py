"""The plugin author's entry points: every contract check of a plugin, by kind.

Three ways to run them:

* ``contract_test(kind, name, **options)`` returns a pytest test function parametrised
  over the checks -- a plugin's whole contract test file is::

      from emkit.testing import contract_test

      test_contract = contract_test("task", "atom-localization")

* ``run_contract(kind, name, **options)`` runs them all and raises one
  ``AssertionError`` listing every failure (for scripts and other test runners);
* ``validate_plugin(kind, name)`` (``emkit plugins validate``) returns the failures as
  strings, with default options.

Checks that cannot run here (a dataset that needs files) are skipped, not failed.
Options depend on the kind; see ``generator``: ``config``, ``size``, ``batch``;
``task`` (``emkit.testing.task_checks``) and ``pretext``: ``config``, ``data``,
``data_config``, ``generator``, ``generator_config``, ``batch_size``; ``data``
(``emkit.testing.data_checks``): ``config``, ``samples``.
"""

from __future__ import annotations

import dataclasses
import traceback
from typing import Any, Callable

from emkit import registry
from emkit.testing.harness import ContractSkip


@dataclasses.dataclass(frozen=True)
class ContractCheck:
    """One named check of one plugin, with the options it runs with."""

    kind: str
    name: str
    check: str
    function: Callable[..., None] = dataclasses.field(repr=False)
    options: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def id(self) -> str:
        return f"{self.kind}={self.name}:{self.check}"

    def run(self) -> None:
        """Run the check; raises ``AssertionError`` on failure, ``ContractSkip`` when skipped."""
        self.function(self.name, **self.options)


def _generator_behaviour(name: str, *, config: Any = None, size: int = 40, batch: int = 2) -> None:
    from emkit.testing.contract import check_generator

    check_generator(name, config=config, size=size, batch=batch)


def _config(kind: str) -> Callable[..., None]:
    def check(name: str, *, config: Any = None, **_: Any) -> None:
        from emkit.testing.contract import check_config
        from emkit.testing.registration import check_config_file

        check_config(kind, name)
        check_config_file(kind, name, config)

    return check


def _common(kind: str) -> list[tuple[str, Callable[..., None], bool]]:
    """(id, function, takes options) of the checks every kind gets."""
    from emkit.testing.registration import check_public_imports, check_registration

    return [
        ("registration", lambda name: check_registration(kind, name), False),
        ("config", _config(kind), True),
        ("imports", lambda name: check_public_imports(kind, name), False),
    ]


def _kind_checks(kind: str) -> list[tuple[str, Callable[..., None]]]:
    if kind == "generator":
        return [("behaviour", _generator_behaviour)]
    if kind == "task":
        from emkit.testing.task_checks import TASK_CHECKS

        return list(TASK_CHECKS)
    if kind == "pretext":
        from emkit.testing.pretext_checks import PRETEXT_CHECKS

        return list(PRETEXT_CHECKS)
    if kind == "data":
        from emkit.testing.data_checks import DATA_CHECKS

        return list(DATA_CHECKS)
    raise ValueError(f"unknown plugin kind {kind!r}; expected one of: {', '.join(registry.KINDS)}")


def contract_checks(kind: str, name: str, **options: Any) -> list[ContractCheck]:
    """Every check of plugin ``name`` of ``kind`` (nothing is imported or run yet)."""
    checks = [
        ContractCheck(kind, name, check_id, fn, dict(options) if takes else {})
        for check_id, fn, takes in _common(kind)
    ]
    checks += [ContractCheck(kind, name, check_id, fn, dict(options)) for check_id, fn in _kind_checks(kind)]
    return checks


def _describe(exc: BaseException) -> str:
    if isinstance(exc, AssertionError):
        return str(exc) or "assertion failed"
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {tb[-1].filename}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"


def collect_problems(kind: str, name: str, **options: Any) -> tuple[list[str], list[str]]:
    """Run every check; return ``(failures, skipped)`` as ``"<check>: <message>"`` lines."""
    return run_checks(contract_checks(kind, name, **options))


def run_checks(checks: list[ContractCheck]) -> tuple[list[str], list[str]]:
    """Run ``checks``; return ``(failures, skipped)`` as ``"<check>: <message>"`` lines."""
    failures: list[str] = []
    skipped: list[str] = []
    for check in checks:
        try:
            check.run()
        except ContractSkip as exc:
            skipped.append(f"{check.check}: {exc}")
        except Exception as exc:  # noqa: BLE001 - any crash of plugin code is a failure
            failures.append(f"{check.check}: {_describe(exc)}")
    return failures, skipped


def validate_plugin(kind: str, name: str) -> list[str]:
    """Run every contract check of plugin ``name`` with default options; return failures.

    The checks per kind are those of ``contract_checks`` (registration, config, imports,
    then the kind's behavioural checks); checks that cannot run here, such as a dataset
    that needs files, are skipped rather than reported (``emkit plugins validate``).
    """
    failures, _ = collect_problems(kind, name)
    return failures


def run_contract(kind: str, name: str, **options: Any) -> list[str]:
    """Run every check; raise ``AssertionError`` listing all failures. Returns the skips."""
    failures, skipped = collect_problems(kind, name, **options)
    if failures:
        raise AssertionError(f"{kind}={name} fails {len(failures)} contract check(s):\n  " + "\n  ".join(failures))
    return skipped


def contract_test(kind: str, name: str, **options: Any) -> Callable[..., None]:
    """A pytest test function running each check of ``name`` as its own test case.

    Assign it to a module-level name starting with ``test``; ids are the check names
    (``test_contract[training_step]``), skips become pytest skips.
    """
    import pytest

    checks = contract_checks(kind, name, **options)

    @pytest.mark.parametrize("check", checks, ids=[c.check for c in checks])
    def test_contract(check: ContractCheck) -> None:
        try:
            check.run()
        except ContractSkip as exc:
            pytest.skip(str(exc))

    test_contract.__doc__ = f"The emkit plugin contract of {kind}={name}."
    return test_contract
