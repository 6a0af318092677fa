"""The one fault table (`swimlab.protocol.faults`) is consistent with itself and is what every
layer reads: the schema, the nemesis, the plot colours, the simulator's recorded causes."""

from __future__ import annotations

import ast
import dataclasses
import tomllib
import typing
from pathlib import Path

from swimlab.protocol import faults
from swimlab.protocol.faults import CAUSES, FAULTS, SHAPES, TOGGLING, Cause, Targets
from swimlab.reports import plots
from swimlab.scenarios.schema import field_specs, validate

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


def _section(readme: str, title: str) -> str:
    start = readme.index(title)
    end = readme.find("\n### ", start + 1)
    return readme[start : end if end != -1 else len(readme)]


def test_the_readme_documents_every_op_and_shape_with_its_keys_and_an_example() -> None:
    """scenarios/README.md keeps up with the table: a row per op naming each of its keys, an
    example of each op; a row per shape naming each of its keys, an example of each shape."""
    readme = (ROOT / "scenarios" / "README.md").read_text()
    faults_doc = _section(readme, "### Faults")
    shapes_doc = _section(readme, "### Partition shapes")
    rows = {
        line.split("|")[1].strip(" `"): line for line in faults_doc.splitlines() if line.startswith("| `")
    }
    for op, spec in FAULTS.items():
        assert op in rows, f"no row for {op}"
        for key in field_specs(spec.params):
            if op == "partition" and key != "shape":
                continue  # the shape's keys: the shapes table below
            assert f"`{key}`" in rows[op], f"{op}: {key} undocumented"
        assert f'op = "{op}"' in faults_doc + shapes_doc, f"no example of {op}"
    rows = {
        line.split("|")[1].strip(" `"): line for line in shapes_doc.splitlines() if line.startswith("| `")
    }
    for shape, spec in SHAPES.items():
        assert shape in rows, f"no row for shape {shape}"
        for key in spec.keys:
            assert f"`{key}`" in rows[shape], f"{shape}: {key} undocumented"
        assert f'shape = "{shape}"' in shapes_doc, f"no example of shape {shape}"


EXAMPLE_BASE = """description = "README example"
duration_s = 200.0
[cluster]
nodes = 100
[cluster.groups]
dc_a = "n0..n29"
dc_b = "n30..n59"
dc_c = "n60..n99"
"""


def test_every_readme_example_is_a_valid_fault() -> None:
    """Each `[[faults]]` entry of the README's examples validates on its own."""
    readme = (ROOT / "scenarios" / "README.md").read_text()
    examples = 0
    for block in readme.split("```toml")[1:]:
        body = block.split("```")[0]
        for entry in body.split("[[faults]]")[1:]:
            validate(tomllib.loads(EXAMPLE_BASE + "[[faults]]" + entry), "README.md")
            examples += 1
    assert examples >= len(FAULTS) + len(SHAPES)
