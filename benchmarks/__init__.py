"""emkit's benchmarks and studies, run as modules from the repository root.

* ``benchmarks.throughput``: speed and memory of emkit's parts (kernels, training steps,
  loading, prediction), each printing ratios measured side by side in one run;
  ``gpu_check`` runs the GPU ones in one call on a GPU machine.
* ``benchmarks.studies``: scientific questions answered with seeds and spread (pretrained
  vs random init, pretraining sources, emkit vs CAREamics / AtomAI, ...).

Every script takes ``--results [FILE]`` to write its results file whole (default under
``benchmarks/results/``) and ``--dry-run`` to check its arguments and result writing at
tiny sizes (``tests/benchmarks/test_scripts.py`` runs every dry run in CI). Shared
helpers live in ``benchmarks.common``::

    python -m benchmarks.throughput.bench_degrade --results
    python -m benchmarks.studies.peers --dry-run --results /tmp/peers.md
"""
