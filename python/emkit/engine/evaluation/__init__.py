"""Evaluation and evidence: metrics over a split, per-image results, labelled pictures.

``split_metrics`` (a split's per-sample metrics averaged across ranks, used by the loop),
``evaluate_run`` (``emkit eval RUN``), ``per_image`` and ``evidence_grid`` (per-image CSV,
saved predictions, worst/best overlays). The labelled picture grids themselves are
``emkit.data.grids``.
"""
