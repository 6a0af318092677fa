"""Behaviour pins: every library scenario's trace, at a small N with per-message records, has
the sha256 recorded in `tests/data/trace_digests.json` (scenarios whose node groups fix their
size run as written).

A refactor that claims to preserve behaviour must leave these unchanged. A change that means to
alter behaviour updates the file in the same commit (and its message says which traces changed
and why):

    SWIMLAB_UPDATE_DIGESTS=1 python -m pytest tests/test_trace_digests.py
"""

import hashlib
import json
import os
from pathlib import Path

import pytest

from swimlab.scenarios.loader import library_names, load_scenario
from swimlab.scenarios.runner import run_scenario

DIGESTS = Path(__file__).resolve().parent / "data" / "trace_digests.json"
OVERRIDES = ["cluster.nodes=24", "trace.messages=true"]
SEED = 7
SCENARIOS = [n for n in library_names() if not n.startswith("sweep_")]


OWN_SIZE = {"three_dc_cut_heal"}
"""Scenarios whose node groups fix their size: pinned as written, without message records."""


def trace_digest(name: str, out: Path) -> str:
    overrides = [] if name in OWN_SIZE else OVERRIDES
    run_scenario(load_scenario(name, overrides), SEED, out_dir=out, render=False)
    return hashlib.sha256((out / "trace.jsonl").read_bytes()).hexdigest()


@pytest.mark.parametrize("name", SCENARIOS)
def test_library_trace_is_unchanged(name: str, tmp_path: Path) -> None:
    digest = trace_digest(name, tmp_path)
    if os.environ.get("SWIMLAB_UPDATE_DIGESTS"):
        pinned = json.loads(DIGESTS.read_text()) if DIGESTS.exists() else {}
        pinned[name] = digest
        DIGESTS.write_text(json.dumps(dict(sorted(pinned.items())), indent=1) + "\n")
        return
    pinned = json.loads(DIGESTS.read_text())
    assert name in pinned, f"{name}: no pinned digest; run with SWIMLAB_UPDATE_DIGESTS=1"
    assert digest == pinned[name], f"{name}: the trace changed (seed {SEED}, {OVERRIDES})"


def test_every_pinned_scenario_still_exists() -> None:
    assert sorted(json.loads(DIGESTS.read_text())) == sorted(SCENARIOS)
