"""The one-line progress: ETA kept at 80 columns, plain lines every N seconds off a terminal."""

from __future__ import annotations

import io

from emkit.console.progress import Progress, fit_line, format_duration

LOSSES = {"loss_g_gan": 0.812345, "loss_g_l1": 0.123456, "loss_d_real": 0.693147, "img/s": 33.21}


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_80_columns_keep_step_eta_and_key_metric():
    clock, stream = Clock(), io.StringIO()
    p = Progress(1000, epochs=5, stream=stream, is_tty=True, width=80, clock=clock)
    clock.t = 100.0
    p.update(250, 2, LOSSES)
    line = p.render(80)
    assert len(line) <= 80
    assert "step 250/1000" in line and "eta 5m00s" in line and "loss_g_gan 0.8123" in line
    assert "epoch 2/5" in line
    # the less important values are dropped first, never the ETA
    assert "img/s" not in line
    narrow = p.render(40)
    assert len(narrow) <= 40 and "250/1000" in narrow and "eta 5m00s" in narrow


def test_wide_terminal_shows_everything_and_a_bar():
    clock = Clock()
    p = Progress(10, stream=io.StringIO(), is_tty=True, width=200, clock=clock)
    clock.t = 4.0
    p.update(4, 1, LOSSES)
    line = p.render(200)
    assert all(k in line for k in LOSSES) and "[" in line and "#" in line and "eta 6s" in line


def test_terminal_redraws_in_place_and_messages_go_above():
    clock, stream = Clock(), io.StringIO()
    p = Progress(10, stream=stream, is_tty=True, width=80, clock=clock)
    clock.t = 1.0
    p.update(1, 1, {"loss": 0.5})
    p.message("epoch 1/1: val_l1 0.1")
    clock.t = 2.0
    p.update(10, 1, {"loss": 0.25})
    p.close()
    text = stream.getvalue()
    assert text.count("\r") >= 3 and text.endswith("\n")
    assert "epoch 1/1: val_l1 0.1\n" in text and "done in 2s" in text


def test_not_a_terminal_prints_one_plain_line_per_interval():
    clock, stream = Clock(), io.StringIO()
    p = Progress(100, stream=stream, is_tty=False, interval=10.0, clock=clock)
    for step in range(1, 101):
        clock.t = step * 0.5  # 50 s in total
        p.update(step, 1, {"loss": 1.0 / step})
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    # first update, then every 10 s (at 10.5, 20.5, ... s) and the last one
    assert len(lines) == 6, lines
    assert lines[0].startswith("epoch 1 step 1/100") and "eta" in lines[0]
    assert "step 21/100" in lines[1] and "eta 40s" in lines[1] and "loss 0.04762" in lines[1]
    assert "step 100/100" in lines[-1] and "done in 50s" in lines[-1]


def test_resumed_job_measures_its_rate_from_where_it_started():
    clock = Clock()
    p = Progress(1000, stream=io.StringIO(), is_tty=False, initial=900, clock=clock)
    clock.t = 10.0
    p.update(950, 3, {})
    assert p.eta_seconds() == 10.0  # 50 steps in 10 s, 50 to go


def test_fit_line_abbreviates_required_parts_before_cutting():
    line = fit_line([["epoch 12/40 step 12000/40000", "12000/40000"], ["eta 1h02m"]], ["x 1"], None, 24)
    assert line == "12000/40000  eta 1h02m"  # the long spelling and the optional part are dropped
    assert fit_line([["epoch 1 step 5/9", "5/9"], ["eta 3s"]], ["x 1"], None, 80) == "epoch 1 step 5/9  eta 3s  x 1"


def test_format_duration():
    assert [format_duration(s) for s in (5, 65, 3725)] == ["5s", "1m05s", "1h02m"]


def test_disabled_prints_nothing():
    stream = io.StringIO()
    p = Progress(5, enabled=False, stream=stream, is_tty=True)
    p.update(1, 1, {"loss": 1.0})
    p.message("hello")
    p.close()
    assert stream.getvalue() == ""


def test_sequence_eta_from_the_jobs_so_far():
    from emkit.console.progress import SequenceEta

    clock = Clock()
    eta = SequenceEta(5, clock=clock)
    assert eta.start(1) == ""
    clock.t = 60.0
    assert eta.start(2) == "  (eta 4m00s for the sweep)"  # 60 s per job, jobs 2..5 left
    clock.t = 200.0
    assert eta.start(4) == "  (eta 2m13s for the sweep)"  # 200 s for jobs 1..3, jobs 4..5 left


def test_notebook_progress_updates_one_output_in_place(monkeypatch) -> None:  # noqa: ANN001
    """Inside Jupyter the line is one display output updated in place (no terminal control codes)."""
    import io

    import IPython.display

    from emkit.console import progress as mod

    shown: list[tuple[str, object]] = []

    class Handle:
        def update(self, obj, raw=False):  # noqa: ANN001, ANN201
            shown.append(("update", obj["text/plain"]))

    def display(obj, raw=False, display_id=False):  # noqa: ANN001, ANN202
        shown.append(("display", obj["text/plain"]))
        return Handle()

    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.setattr(mod, "in_notebook", lambda: True)
    clock = iter(range(0, 1000)).__next__
    bar = mod.make_progress(10, epochs=1, clock=lambda: float(clock()))
    assert isinstance(bar, mod.NotebookProgress)
    bar.stream = io.StringIO()
    for step in range(1, 11):
        bar.update(step, 1, {"loss": 0.5})
    bar.message("epoch 1/1: val_l1 0.1")
    bar.close()
    assert shown[0][0] == "display" and all(kind == "update" for kind, _ in shown[1:])
    assert "step 10/10" in shown[-1][1] and "\r" not in "".join(text for _, text in shown)
    assert bar.stream.getvalue() == "epoch 1/1: val_l1 0.1\n"
    assert not isinstance(mod.make_progress(10, enabled=False), mod.NotebookProgress)
