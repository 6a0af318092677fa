"""docs/races.md must run as written: its python blocks execute in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

from swimlab.sim.interleave.cli import exit_status, format_table, main, run_races

DOC = Path(__file__).resolve().parents[2] / "docs" / "races.md"


def test_races_guide_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 3
    namespace: dict[str, object] = {"__name__": "races_guide"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)  # our own guide, run as written
    model_lines = blocks[0].count("\n")
    assert model_lines < 50, "the guide promises a model in under 50 lines"


def test_races_cli_table_and_exit_status(capsys) -> None:  # type: ignore[no-untyped-def]
    rows = run_races(["get-or-create", "select-updates"], ("random", "dfs"), budget=100)
    assert exit_status(rows) == 0 and all(r.as_expected for r in rows)
    table = format_table(rows)
    assert "get-or-create" in table and "UNEXPECTED" not in table
    assert main(["--model", "gossip-clone", "--budget", "50", "--strategy", "pct"]) == 0
    out = capsys.readouterr().out
    assert "gossip-clone" in out and "replay" in out
