"""Compare figures: integer epoch ticks, titles inside the figure, identity baseline as a line."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from emkit.report.plots import curve_figure, curve_metrics, wrap_title  # noqa: E402
from emkit.report.runs import RunSummary  # noqa: E402


def _summary(name: str, init: str, epochs: dict[int, dict[str, float]]) -> RunSummary:
    cfg = {"init": init, "seed": 0, "task": {"name": "background-removal-with-a-long-name"},
           "generator": {"name": "unet"}}
    return RunSummary(path=Path(name), config=cfg, epochs=epochs, finished=True)


RUNS = [
    _summary("p", "runs/pre", {1: {"val_l1": 0.2, "val_l1_identity": 0.09}, 2: {"val_l1": 0.1, "val_l1_identity": 0.09},
                               3: {"val_l1": 0.05, "val_l1_identity": 0.09}}),
    _summary("r", "random", {1: {"val_l1": 0.3, "val_l1_identity": 0.09}, 2: {"val_l1": 0.2, "val_l1_identity": 0.09},
                             3: {"val_l1": 0.08, "val_l1_identity": 0.09}}),
]
LABELS = {Path("p"): "unet(blocks=2, width=8, rf=424, norm=instance)", Path("r"): "unet(blocks=2, width=8, rf=424, norm=instance)"}


def test_integer_ticks_baseline_line_and_title_inside():
    assert curve_metrics(RUNS) == ["val_l1"]  # the baseline column gets no figure of its own
    fig = curve_figure(RUNS, LABELS, "background-removal-with-a-long-name", "val_l1")
    try:
        ax = fig.axes[0]
        fig.canvas.draw()
        left, right = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if left <= t <= right]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
        baseline = [line for line in ax.get_lines() if line.get_label().startswith("identity")]
        assert len(baseline) == 1 and set(baseline[0].get_ydata()) == {0.09}
        box = ax.title.get_window_extent(fig.canvas.get_renderer())
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
    finally:
        plt.close(fig)


def test_wrap_title():
    text = "segmentation: val_dice (solid = pretrained, dashed = random init) with more words"
    lines = wrap_title(text, 30).split("\n")
    assert len(lines) > 1 and all(len(line) <= 30 for line in lines)
    assert " ".join(lines) == text


def test_computed_baselines_replace_the_identity_column():
    rows = [{"objective": "background-removal-with-a-long-name", "name": "identity", "split_label": "",
             "metrics": {"l1": 0.085}},
            {"objective": "background-removal-with-a-long-name", "name": "constant mean", "split_label": "",
             "metrics": {"l1": 0.25}},
            {"objective": "segmentation", "name": "all background", "split_label": "", "metrics": {"l1": 9.0}}]
    fig = curve_figure(RUNS, LABELS, "background-removal-with-a-long-name", "val_l1", rows)
    try:
        lines = {line.get_label(): set(line.get_ydata()) for line in fig.axes[0].get_lines()
                 if "test split" in line.get_label() or line.get_label().startswith("identity")}
        assert lines == {"identity (test split)": {0.085}, "constant mean (test split)": {0.25}}
    finally:
        plt.close(fig)
