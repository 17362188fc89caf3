"""Inference with trained generators: tiled, memory-bounded, on files of any size.

Modules, one job each:
  * ``model_loading``: run directory / weights file → generator in eval mode + output meaning;
  * ``postprocess``: what the output means (image, binary or multi-class probabilities);
  * ``intensity``: input normalisation as in training, fitted per image, applied per tile;
  * ``padding`` / ``tiling``: the whole image's padding and the tile grid with blending windows;
  * ``tiled``: the engine (``TiledPredictor``); ``tta``: the 8 dihedral transforms;
  * ``inputs`` / ``sources`` / ``metadata`` / ``writers``: files in, strips, pixel size, TIFFs out;
  * ``runner``: files → outputs, with ``progress``.
"""

from emkit.predict.model_loading import LoadedModel, load_model
from emkit.predict.postprocess import OutputHead
from emkit.predict.tiled import TiledPredictor, TileSettings

__all__ = ["LoadedModel", "OutputHead", "TileSettings", "TiledPredictor", "load_model"]
