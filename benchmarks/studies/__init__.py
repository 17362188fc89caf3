"""Studies: scientific questions about emkit's method, answered with seeds and spread.

Each study trains through emkit's public CLI (resumable: rerun the command after a kill,
finished runs are skipped), reports mean ± std over seeds with the trivial baselines
(identity, all-background) and writes its results file whole with ``--results``. Readings
written by hand live next to it as ``<name>_reading.md`` and quote the generated numbers.
"""
