"""emkit-atomfinder: the ``atom-localization`` task for emkit, and an example plugin.

Registered through the ``emkit.tasks`` entry point in this distribution's
``pyproject.toml``; emkit imports :mod:`emkit_atomfinder.task` only when a run chooses
``task=atom-localization``. The point utilities (:mod:`emkit_atomfinder.points`,
:mod:`emkit_atomfinder.matching`) are usable on their own, e.g. on predictions of
``emkit predict``.
"""

__version__ = "0.1.0"
