"""Helpers of ``benchmarks.studies.pretext_study``: its arms (``arms``), how they run
(``runs``) and its tables (``tables``)."""
