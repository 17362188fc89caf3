"""The public plugin API: what plugins (and the interfaces) may use besides the ABCs.

Depends on nothing in emkit (torch only), so ``emkit.interfaces`` and every plugin can
import it without reaching into the engine. Everything listed in ``__all__`` is stable
across releases of plugin API version 1:

* image space: ``to_unit`` (stored intensities → [0, 1]), ``to_model`` ([0, 1] → the
  generator's ``2x - 1``), ``from_model`` (back);
* padding: ``pad_to_multiple`` / ``crop`` (centred reflect padding a generator body
  needs), ``pad_amounts`` (the arithmetic), ``PadAmounts``, ``Box``;
* steps: ``StepContext`` (what a step receives), ``Objective`` (what the loop drives),
  ``BoundModules`` (the ``bind`` / ``net(name="generator")`` convention).
"""

from emkit.plugin_api.context import StepContext
from emkit.plugin_api.image_space import from_model, to_model, to_unit
from emkit.plugin_api.objective import Batch, BoundModules, Objective
from emkit.plugin_api.padding import Box, PadAmounts, crop, pad_amounts, pad_to_multiple

__all__ = [
    "Batch",
    "BoundModules",
    "Box",
    "Objective",
    "PadAmounts",
    "StepContext",
    "crop",
    "from_model",
    "pad_amounts",
    "pad_to_multiple",
    "to_model",
    "to_unit",
]
