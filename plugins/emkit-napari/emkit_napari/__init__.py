"""emkit-napari: emkit inside napari.

A front end, like emkit's CLI: it drives emkit's readers, tiled predictor and training
engine and adds napari layers. Contributions (``napari.yaml``):

* ``reader``: EM files through ``emkit.data.readers`` with the pixel size as layer scale;
* ``sample_data``: images from emkit's synthetic generators, so the plugin works without files;
* ``predict_widget``: a run directory (or a bioimage.io package) applied to an image layer;
* ``finetune_widget``: image + labels (or target) layers → a normal emkit run directory.

The Qt-free halves (``predict_core``, ``finetune_core``) hold the logic
and are tested without a viewer; the widgets only wire them to Qt.
"""

__version__ = "0.1.0"
