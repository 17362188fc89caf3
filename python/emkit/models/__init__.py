"""Building generators from their plugin name and config, and describing them."""

from emkit.models.build import build_generator, generator_from_spec, generator_spec

__all__ = ["build_generator", "generator_from_spec", "generator_spec"]
