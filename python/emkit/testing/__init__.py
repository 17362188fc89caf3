"""Contract tests for plugin authors: run them against your own plugin.

``validate_plugin(kind, name)`` returns a list of problems (empty = pass); the
``check_*`` functions raise ``AssertionError`` and are meant for pytest.
"""

from emkit.testing.contract import validate_plugin

__all__ = ["validate_plugin"]
