"""Contract tests for plugin authors: run them against your own plugin.

A plugin's whole contract test file::

    from emkit.testing import contract_test

    test_contract = contract_test("task", "atom-localization")

``contract_test`` parametrises one pytest test over the checks of the plugin's kind
(registration, config, imports and the behavioural checks); ``run_contract`` runs them
outside pytest and raises one ``AssertionError`` listing every failure;
``validate_plugin(kind, name)`` returns the failures as strings (``emkit plugins
validate``). The ``check_*`` functions raise ``AssertionError`` and can be used alone.
"""

from emkit.testing.contract import check_config, check_generator
from emkit.testing.harness import ContractSkip, TinyGenerator
from emkit.testing.runner import ContractCheck, contract_checks, contract_test, run_contract, validate_plugin

__all__ = [
    "ContractCheck",
    "ContractSkip",
    "TinyGenerator",
    "check_config",
    "check_generator",
    "contract_checks",
    "contract_test",
    "run_contract",
    "validate_plugin",
]
