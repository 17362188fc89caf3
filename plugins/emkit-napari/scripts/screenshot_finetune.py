"""Make docs/images/napari_finetune.png: the fine-tune widget after a short run on synthetic STEM.

Opens the plugin's synthetic STEM sample, docks the fine-tune widget, trains atom-column
segmentation from the image and its atom-column labels (random init, seed 0, a small
U-Net, 10 epochs of 64 px patches: about 30 steps, a minute on one CPU core) and saves
a screenshot of the window with the live curves. Run under ``xvfb-run -a`` when headless::

    xvfb-run -a python plugins/emkit-napari/scripts/screenshot_finetune.py docs/images/napari_finetune.png
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    out = args.out.resolve()
    import napari
    import torch
    from screenshot_window import run_to_end, save_window

    from emkit_napari.finetune_widget import FinetuneWidget

    torch.set_num_threads(1)
    os.chdir(tempfile.mkdtemp())
    viewer = napari.Viewer(title="emkit fine-tune: atom columns in synthetic STEM")
    viewer.open_sample("emkit-napari", "synthetic-stem")
    widget = FinetuneWidget(viewer)
    viewer.window.add_dock_widget(widget, name="emkit: Fine-tune", area="right")
    widget.image.select("synthetic STEM")
    widget.partner.select("atom columns")
    widget.runs_dir.setText("runs")
    widget.name.setText("stem-finetune")
    widget.device.setCurrentText("cpu")
    widget.epochs.setValue(args.epochs)
    widget.patch.setValue(64)
    widget.extra.setText("generator.blocks=2 generator.width=8 train.batch_size=4 seed=0")
    run_to_end(widget)
    save_window(viewer, widget, out, 1000)


if __name__ == "__main__":
    main()
