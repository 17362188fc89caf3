"""emkit's built-in plugins, registered through entry points like any third-party plugin.

Sub-packages: ``generators`` (unet, hrnet), ``pretexts`` (pix2pix), ``tasks``
(segmentation, denoise, background-removal, super-resolution), ``datasets``.
"""
