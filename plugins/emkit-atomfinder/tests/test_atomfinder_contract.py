"""The emkit plugin contract, checked by emkit's own kit (one test case per check)."""

from emkit.testing import contract_test

test_contract = contract_test("task", "atom-localization", config={"crop": 32}, data_config={"size": 64})
