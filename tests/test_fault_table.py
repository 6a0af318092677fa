"""The one fault table (`swimlab.protocol.faults`) is consistent with itself and is what every
layer reads: the schema, the nemesis, the plot colours, the simulator's recorded causes."""

from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path

from swimlab.protocol import faults
from swimlab.protocol.faults import CAUSES, FAULTS, SHAPES, TOGGLING, Cause, Targets
from swimlab.reports import plots
from swimlab.scenarios.schema import field_specs

ROOT = Path(__file__).resolve().parent.parent


def test_every_row_is_complete() -> None:
    for op, spec in FAULTS.items():
        assert spec.op == op
        assert dataclasses.is_dataclass(spec.params), op
        assert spec.summary, op
        field_specs(spec.params)  # every annotation maps to a schema kind
        assert spec.needs <= faults.ALL_CAPABILITIES, op
        assert spec.cause is None or spec.cause in CAUSES, op


def test_toggling_ops_are_exactly_those_with_a_revert_and_a_duration() -> None:
    toggling_params = set(typing.get_args(faults.Toggling))
    assert {FAULTS[op].params for op in TOGGLING} == toggling_params
    for op in TOGGLING:
        assert "duration_s" in field_specs(FAULTS[op].params), op


def test_partition_shapes_match_the_literal() -> None:
    hints = typing.get_type_hints(faults.Partition)
    assert set(typing.get_args(hints["shape"])) == set(SHAPES)
    assert FAULTS["partition"].targets is Targets.SHAPE


def test_plot_colours_come_from_the_table() -> None:
    assert plots.FAULT_COLORS is CAUSES
    assert set(CAUSES) == set(Cause)


def test_the_simulator_records_only_causes_in_the_table() -> None:
    """Every `impair(..., cause, ...)` in sim/ names a cause of the table, so the plots can colour
    it and reports know it."""
    tree = ast.parse((ROOT / "sim" / "simulation.py").read_text())
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "impair" and len(node.args) >= 2:
            cause = node.args[1]
            if isinstance(cause, ast.Constant):
                used.add(cause.value)
            elif isinstance(cause, ast.Attribute):
                used.add(Cause[cause.attr].value)
    assert used and used <= {c.value for c in Cause}, used
