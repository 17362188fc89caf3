"""Comparison reports over finished runs (pretrained vs random, like the paper's tables)."""

from emkit.report.compare import write_report
from emkit.report.runs import RunSummary, load_run

__all__ = ["RunSummary", "load_run", "write_report"]
