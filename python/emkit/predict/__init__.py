"""Inference with trained generators: tiled, memory-bounded, on files of any size.

Modules, one job each:
  * ``model_loading``: run directory / weights file → generator in eval mode + output meaning;
  * ``postprocess``: what the output means (image, binary or multi-class probabilities);
  * input normalisation is ``emkit.data.intensity`` (the training rules), fitted per image
    and applied per tile;
  * ``padding`` / ``tile_grid``: the whole image's padding and the tile grid with blending windows;
  * ``tiled_predictor``: the engine (``TiledPredictor``); ``tta``: the 8 dihedral transforms
    and their spread;
  * ``inputs/`` (``files``, ``sources``, ``checks``): files in (and the default output folder),
    strips of pixels, values checked (NaN/Inf refused or filled, constant/tiny images warned,
    skips reported);
  * ``input_check``: each image against the run's training-input statistics
    (``emkit.data.input_stats``); ``tiling_check``: tiled vs whole-image inference where
    tiling is not exact;
  * ``metadata`` / ``writers``: pixel size, TIFFs out; ``preview`` / ``colour_scale``: labelled
    PNGs with the residual on a signed scale;
  * ``runner``: files → outputs, with ``progress``; ``image_prediction``: one array → every
    result (prediction, residual, spread, input check, tiling deviation) as arrays.
"""

from emkit.predict.model_loading import LoadedModel, load_model
from emkit.predict.postprocess import OutputHead
from emkit.predict.tiled_predictor import TiledPredictor, TileSettings

__all__ = ["LoadedModel", "OutputHead", "TileSettings", "TiledPredictor", "load_model"]
