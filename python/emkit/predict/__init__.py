"""Inference with trained generators: tiled, memory-bounded, on files of any size.

Modules, one job each:
  * ``model_loading``: run directory / weights file → generator in eval mode + output meaning;
  * ``postprocess``: what the output means (image, binary or multi-class probabilities);
  * input normalisation is ``emkit.data.intensity`` (the training rules), fitted per image
    and applied per tile;
  * ``padding`` / ``tile_grid``: the whole image's padding and the tile grid with blending windows;
  * ``tiled_predictor``: the engine (``TiledPredictor``); ``tta``: the 8 dihedral transforms;
  * ``inputs/`` (``files``, ``sources``, ``checks``): files in, strips of pixels, values checked
    (NaN/Inf refused or filled, constant/tiny images warned, skips reported);
  * ``metadata`` / ``writers``: pixel size, TIFFs out;
  * ``runner``: files → outputs, with ``progress``.
"""

from emkit.predict.model_loading import LoadedModel, load_model
from emkit.predict.postprocess import OutputHead
from emkit.predict.tiled_predictor import TiledPredictor, TileSettings

__all__ = ["LoadedModel", "OutputHead", "TileSettings", "TiledPredictor", "load_model"]
