"""bioimage.io model packages of emkit runs: export, validation, and a small loader.

Writing (``emkit export RUN --format bioimageio``): ``package.export_package(run,
PackageOptions(out, test_image, authors)) -> PackageResult(path, notes)`` writes
``<run>/<run name>.bioimageio.zip`` in the bioimage.io model spec 0.5 (``rdf.yaml``,
TorchScript and ONNX weights, test tensors made from a real image of the run's data,
cover, documentation, licence, citation, the run's ``config.yaml``).
``validate.validate_package(path)`` runs bioimage.io core's test on it; that needs the
optional extra ``emkit[bioimageio]`` (``validate.available()`` says whether it is there).

Reading, for other emkit code (the napari plugin, scripts)::

    from emkit.export.bioimageio import load_package

    pkg = load_package(path)        # a .zip package, its folder, or its rdf.yaml
    pkg.name                        # str: the package's name
    pkg.task                        # str | None: segmentation, denoise, ... (None: pretext run)
    pkg.output_kind                 # "image" | "binary" | "multiclass"
    pkg.halo                        # int: pixels to discard at each interior tile edge
    pkg.size_multiple               # int: the network's H, W multiple (the TorchScript pads itself)
    pkg.threshold                   # float | None: mask threshold of binary segmentation
    pkg.predict(image)              # numpy (H, W) float array, in the image's own intensity
                                    #   units -> numpy float32: (H, W) for one output channel,
                                    #   (C, H, W) for several (image in [0, 1], or probabilities)
    pkg.predict_all(image)          # {output id: array}: also "mask" (uint8) for segmentation

``predict`` applies the package's own pre-processing (as written in ``rdf.yaml``) and
runs its TorchScript weights (``torch.jit.load``: no pickled code is executed) on the
whole image. It needs no bioimageio package.
"""

from __future__ import annotations

from emkit.export.bioimageio.loader import PackageModel, load_package

__all__ = ["PackageModel", "load_package"]
