"""Metrics of a run: one ground truth, the views, and small observers over them (see
`accumulator.py` for the layout and `swimlab.reports.schema` for what they produce)."""

from .accumulator import MetricsAccumulator

__all__ = ["MetricsAccumulator"]
