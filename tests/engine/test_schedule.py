"""Learning-rate schedules are pure functions of the step."""

import pytest

from emkit.engine.schedule import lr_factor


def test_linear_is_constant_then_decays():
    total = 10
    values = [lr_factor("linear", s, total) for s in range(total)]
    assert values[:5] == [1.0] * 5
    assert all(a > b for a, b in zip(values[4:], values[5:]))
    assert values[-1] > 0


def test_cosine_and_constant():
    assert lr_factor("constant", 5, 10) == 1.0
    assert lr_factor("cosine", 0, 10) == 1.0
    assert lr_factor("cosine", 9, 10) == pytest.approx(0.5 * (1 + __import__("math").cos(0.9 * __import__("math").pi)))
