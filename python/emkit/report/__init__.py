"""Comparison reports over finished runs (pretrained vs random, like the paper's tables)."""

from emkit.report.compare import Comparison, compare_runs, write_report
from emkit.report.runs import RunSummary, load_run

__all__ = ["Comparison", "RunSummary", "compare_runs", "load_run", "write_report"]
