"""Built-in dataset plugins (entry-point group ``emkit.datasets``).

File layouts: ``folder`` (CEM500K-style unlabeled images), ``temimagenet``, ``au-hdf5``,
``paired-folder``, ``mask-folder``, ``packed`` (shards written by ``emkit data pack``).
Synthetic, generated on the fly: ``synthetic-cem``, ``synthetic-stem``, ``synthetic-hrtem``.
Modules are imported only when their plugin is chosen.
"""
