"""Compact statistics of a model's training inputs, and how far a new image lies from them.

A model removes or invents structure when its input differs from what it was trained on,
and nothing in the output says so. This package describes images the way the network
sees them -- intensities in [0, 1] after the run's normalisation -- by a few numbers
(``features``), keeps those numbers for a sample of the training inputs with every run
and exported package (``record``: ``<run>/input_stats.json``), and compares a new image
against them (``compare``): one decision, and which measure differs by how much.

Below the engine (numpy only) so training, ``emkit predict`` and export share it.
"""

from emkit.data.input_stats.compare import InputCheck, compare
from emkit.data.input_stats.features import ImageFeatures, array_features
from emkit.data.input_stats.record import STATS_FILE, InputStats, collect_stats, load_stats, write_stats

__all__ = ["STATS_FILE", "ImageFeatures", "InputCheck", "InputStats", "array_features", "collect_stats", "compare",
           "load_stats", "write_stats"]
