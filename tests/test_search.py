"""`swimlab search` (scenarios/search.py): the envelope's schema, a planted bug found and shrunk
with a small budget, the written scenario replaying byte for byte, Ctrl-C keeping what was
found, and the fixed protocol passing a short search."""

import hashlib
from pathlib import Path

import pytest

from swimlab.protocol import planted
from swimlab.scenarios.errors import ScenarioError
from swimlab.scenarios.loader import load_scenario
from swimlab.scenarios.runner import run_scenario
from swimlab.scenarios.search import PLANTED_ENV, run_search

ENVELOPE = """
description = "a small envelope for tests"
duration_s = 60.0

[cluster]
nodes = 4
preset = "local"

[search]
ops = {ops}
max_faults = 3
from_s = 5.0
to_s = 40.0
settle_s = 60.0
"""


def envelope_file(tmp_path: Path, ops: str = '["partition", "pause", "loss", "crash", "restart"]') -> Path:
    path = tmp_path / "env.toml"
    path.write_text(ENVELOPE.format(ops=ops), encoding="utf-8")
    return path


@pytest.fixture
def planted_bug(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def switch(name: str) -> None:
        monkeypatch.setenv(PLANTED_ENV, name)

    yield switch
    planted.activate("")


def test_the_envelope_is_validated_with_the_scenario(tmp_path: Path) -> None:
    path = envelope_file(tmp_path)
    text = path.read_text().replace("max_faults = 3", "max_faults = 3\nmax_fault = 2")
    path.write_text(text)
    with pytest.raises(ScenarioError, match=r"search\.max_fault: expected no such key"):
        load_scenario(str(path))
    path = envelope_file(tmp_path, '["partition", "teleport"]')
    with pytest.raises(ScenarioError, match=r"search\.ops\.1: expected one of partition"):
        load_scenario(str(path))
    path.write_text(ENVELOPE.format(ops='["crash"]').replace("to_s = 40.0", "to_s = 5.5"))
    with pytest.raises(ScenarioError, match=r"search\.to_s"):
        load_scenario(str(path))
    assert load_scenario("search_partition").name == "search_partition"
    assert load_scenario("search_churn").name == "search_churn"


def test_a_planted_bug_is_found_shrunk_and_replayed_byte_for_byte(tmp_path: Path, planted_bug) -> None:  # type: ignore[no-untyped-def]
    planted_bug("pushpull_older_wins")
    outcome = run_search(str(envelope_file(tmp_path)), budget=30, seed=1, out_dir=tmp_path / "found")
    assert outcome.found is not None, outcome
    assert outcome.found["oracle"] == "incarnations_never_decrease"
    assert len(outcome.found["schedule"]["faults"]) <= 2  # shrunk
    assert outcome.written is not None and outcome.exit_code == 1
    text = outcome.written.read_text()
    assert "# Violated invariant: incarnations_never_decrease" in text
    assert "as it shrank:" in text
    digest = text.split("trace sha256 ")[1].split(")")[0]
    # `swimlab run FILE` gives the very trace the search judged, and the same violation.
    planted.activate("pushpull_older_wins")
    scenario = load_scenario(str(outcome.written))
    result = run_scenario(scenario, scenario.seeds[0], out_dir=tmp_path / "replay", render=False)
    assert hashlib.sha256((tmp_path / "replay" / "trace.jsonl").read_bytes()).hexdigest() == digest
    violated = [o.name for o in result.result.oracles if o.ok is False]
    assert "incarnations_never_decrease" in violated
    # Without the planted bug the same schedule holds every oracle.
    planted.activate("")
    clean = run_scenario(scenario, scenario.seeds[0])
    assert all(o.ok is not False for o in clean.result.oracles), clean.result.oracles


def test_the_fixed_protocol_passes_a_short_search(tmp_path: Path) -> None:
    outcome = run_search(str(envelope_file(tmp_path)), budget=6, seed=2, out_dir=tmp_path / "found")
    assert outcome.found is None and outcome.failures == 0
    assert outcome.tried == 6
    assert outcome.coverage["suspicion_to_dead"] + outcome.coverage["suspicion_refuted"] > 0


def test_ctrl_c_keeps_what_was_found(tmp_path: Path, planted_bug, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    planted_bug("suspicion_ignores_incarnation")
    import swimlab.scenarios.search as search

    real = search.run_schedule
    calls = {"n": 0, "failed": 0}

    def interrupting(*args, **kwargs):  # type: ignore[no-untyped-def]
        outcome, raw = real(*args, **kwargs)
        calls["n"] += 1
        calls["failed"] += outcome.failed is not None
        if calls["failed"] >= 2:  # mid-shrink: the user presses Ctrl-C
            raise KeyboardInterrupt
        return outcome, raw

    monkeypatch.setattr(search, "run_schedule", interrupting)
    outcome = run_search(str(envelope_file(tmp_path)), budget=40, seed=1, out_dir=tmp_path / "found")
    assert outcome.interrupted
    assert outcome.found is not None and outcome.written is not None
    assert "interrupted" in outcome.written.read_text()


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="--budget"):
        run_search(str(envelope_file(tmp_path)), budget=0)
    with pytest.raises(ScenarioError, match=r"search: expected a \[search\] table"):
        run_search("crash_one", budget=1)


def test_shards_run_on_an_executor_and_add_up(tmp_path: Path) -> None:
    import concurrent.futures as cf

    with cf.ThreadPoolExecutor(2) as pool:
        outcome = run_search(
            str(envelope_file(tmp_path)), budget=4, seed=3, executor=pool, out_dir=tmp_path, shard_size=2
        )
    assert outcome.tried == 4 and outcome.found is None
    assert sum(outcome.coverage.values()) > 0


def test_the_readme_documents_every_envelope_key() -> None:
    import dataclasses

    from swimlab.scenarios.search import Envelope

    readme = (Path(__file__).resolve().parent.parent / "scenarios" / "README.md").read_text()
    section = readme[readme.index("## Fault search") : readme.index("## Sweeps")]
    for field in dataclasses.fields(Envelope):
        assert f"`{field.name}`" in section, f"search.{field.name} undocumented"
