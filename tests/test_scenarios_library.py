"""Every library scenario runs end to end at a small N, its faults really hit nodes, and its
checks pass: a smoke test for each fault kind (loss, slowness, flip-flop, drift, churn, ...)."""

import json
from pathlib import Path

import pytest

from scenarios.loader import library_names, load_scenario
from scenarios.runner import run_scenario

SCENARIOS = [n for n in library_names() if not n.startswith("sweep_")]


@pytest.mark.parametrize("name", SCENARIOS)
def test_library_scenario_is_valid_at_small_n(name: str, tmp_path: Path) -> None:
    scenario = load_scenario(name, ["cluster.nodes=40"])
    result = run_scenario(scenario, 1, out_dir=tmp_path)
    assert result.verdict == "valid", [c for c in result.checks if not c.ok]
    if scenario.faults:
        kinds = set()
        with open(tmp_path / "trace.jsonl") as trace:
            for line in trace:
                record = json.loads(line)
                kind = record["kind"]
                crashed = kind == "host" and record["status"] == "down"
                targeted = kind == "fault" and bool(record.get("nodes"))  # clock steps: no impair record
                if kind == "impair" or crashed or targeted:
                    kinds.add(kind)
        assert kinds, f"{name}: its faults touched no node at N=40"
