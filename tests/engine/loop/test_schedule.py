"""Learning-rate schedules are pure functions of the step."""

import pytest

from emkit.engine.loop.schedule import lr_factor


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


def _optimizer(roles):
    import torch

    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 1.0, **({"role": r} if r else {})}
              for r in roles]
    return {"g": torch.optim.Adam(groups, lr=1.0)}


def test_warmup_defaults_to_five_percent_downstream_and_off_for_pretexts():
    from emkit.engine.loop.schedule import warmup_steps

    assert warmup_steps(None, 200, downstream=True) == 10
    assert warmup_steps(None, 200, downstream=False) == 0
    assert warmup_steps(0.0, 200, downstream=True) == 0
    assert warmup_steps(0.1, 200, downstream=False) == 20
    from emkit.errors import ConfigError

    with pytest.raises(ConfigError, match="train.warmup"):
        warmup_steps(1.5, 10, downstream=True)


def test_apply_lr_ramps_linearly_then_follows_the_schedule():
    import types

    from emkit.engine.loop.schedule import apply_lr

    opts = _optimizer([None])
    train = types.SimpleNamespace(schedule="constant", warmup=0.3, head_first_steps=0)
    rates = [apply_lr(opts, train, s, 10, downstream=True) for s in range(10)]
    assert rates == pytest.approx([0.25, 0.5, 0.75] + [1.0] * 7)


def test_head_first_keeps_the_body_still_then_warms_it_up():
    import types

    import torch

    from emkit.engine.loop.schedule import apply_lr

    opts = _optimizer(["head", "body"])
    train = types.SimpleNamespace(schedule="constant", warmup=0.2, head_first_steps=3)
    body = []
    for s in range(8):
        apply_lr(opts, train, s, 10, downstream=True)
        body.append(opts["g"].param_groups[1]["lr"])
    assert body == pytest.approx([0, 0, 0, 1 / 3, 2 / 3, 1, 1, 1])
    # The body really does not move while its rate is 0.
    head, body_p = (g["params"][0] for g in opts["g"].param_groups)
    train = types.SimpleNamespace(schedule="constant", warmup=0.0, head_first_steps=2)
    for s in range(3):
        apply_lr(opts, train, s, 10, downstream=True)
        opts["g"].zero_grad()
        (head * 3 + body_p * 5).sum().backward()
        opts["g"].step()
        if s < 2:
            assert body_p.item() == 0.0 and head.item() != 0.0
    assert body_p.item() != 0.0


def test_head_first_without_a_body_group_is_refused():
    import types

    from emkit.engine.loop.schedule import apply_lr
    from emkit.errors import ConfigError

    train = types.SimpleNamespace(schedule="constant", warmup=None, head_first_steps=5)
    with pytest.raises(ConfigError, match="head_first_steps"):
        apply_lr(_optimizer([None]), train, 0, 10, downstream=False)
