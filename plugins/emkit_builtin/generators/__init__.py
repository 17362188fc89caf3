"""Built-in generators: ``unet`` (Sytwu et al.'s residual U-Net) and ``hrnet`` (HRNetV2).

Each network lives in its own module and is registered through the
``emkit.generators`` entry-point group, exactly like a third-party plugin; this
package imports nothing on its own so listing plugins stays cheap.

Modules:
  * ``unet`` / ``unet_rf``: the U-Net and its receptive-field arithmetic and presets.
  * ``hrnet`` / ``hrnet_modules``: the HRNetV2 generator and its multi-resolution modules.
  * ``base``: what both share (pad-to-multiple forward, replaceable 1×1 head).
  * ``blocks``, ``init``, ``padding``: small building blocks.
  * ``rf_probe``: measure a receptive field empirically (used by tests and ``hrnet``).
"""
