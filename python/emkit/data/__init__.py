"""Data loading for emkit: readers, normalisation, splits, packing, synthetic generators.

Modules (each with one job, imported on demand so ``import emkit`` stays light):

``readers``      read TIFF/PNG/JPEG/HDF5/MRC (+ DM3/DM4/EMD/SER with ``emkit[em-formats]``),
                 dispatch by content, one ``BadFileError`` per bad file
``formats``      the format families: extensions, content signatures, rosettasciio modules
``intensity``    raw pixels -> [0, 1]: auto / none / fixed / percentile / meanstd (datasets + predict)
``splits``       deterministic hashed train/val/test splits, nested ``limit`` subsets
``filedataset``  base class of the file-based dataset plugins (errors, splits, stats)
``paired``       base of image/target/mask folder datasets (TEMImageNet layout)
``packed``       ``pack_folder`` to memory-mapped shards and the zero-copy ``PackedArray``
``sampling``     per-source balanced sampling
``problems``     the skipped-file log shared with DataLoader workers, and its summary
``preview``      sample grids and statistics for ``emkit data show``
``synthetic``    on-the-fly synthetic CEM, ADF-STEM and HRTEM generators and exporters
"""
