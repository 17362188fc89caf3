"""Make docs/images/napari_predict.png: the predict widget segmenting atom columns on synthetic STEM.

Trains a small atom-column segmentation run on emkit's synthetic STEM data (about a
minute on one CPU core; seed 0), opens the plugin's synthetic STEM sample in a napari
viewer, docks the predict widget, predicts, and saves a screenshot of the whole window.
Needs a display: run under ``xvfb-run -a`` on a headless machine::

    xvfb-run -a python plugins/emkit-napari/scripts/screenshot_predict.py docs/images/napari_predict.png
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

RUN = ["task=segmentation", "data=synthetic-stem", "data.size=128", "data.length=512", "data.val_length=16",
       "data.test_length=0", "task.crop=128", "generator=unet", "generator.blocks=2", "generator.width=8",
       "train.epochs=3", "train.batch_size=8", "train.device=cpu", "seed=0"]


def train() -> Path:
    """``runs/stem-atoms`` in the current folder (the widget shows the path as a user would type it)."""
    import emkit

    return Path(emkit.train(*RUN, runs_dir="runs", name="stem-atoms").path)


def shoot(run: Path, out: Path) -> None:
    import napari
    from screenshot_window import run_to_end, save_window

    from emkit_napari.predict_widget import PredictWidget

    viewer = napari.Viewer(title="emkit predict: atom columns in synthetic STEM")
    viewer.open_sample("emkit-napari", "synthetic-stem")
    viewer.layers["atom columns"].visible = False
    widget = PredictWidget(viewer)
    viewer.window.add_dock_widget(widget, name="emkit: Predict", area="right")
    widget.set_model(run)
    widget.image.select("synthetic STEM")
    widget.tile.setValue(128)
    run_to_end(widget)
    viewer.layers[f"synthetic STEM ({run.name}) probability"].visible = False
    save_window(viewer, widget, out, 800)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--run", type=Path, help="use this run instead of training one")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    out, run = args.out.resolve(), args.run.resolve() if args.run else None
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        shoot(run or train(), out)


if __name__ == "__main__":
    main()
