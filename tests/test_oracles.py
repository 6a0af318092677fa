"""The invariant oracles (reports/oracles.py): each catches a planted bad trace and names its
first violating record; a clean run holds every one; and they are in every run's result."""

from typing import Any

import pytest

from swimlab.protocol import trace_schema as ts
from swimlab.protocol.config import preset
from swimlab.protocol.events import EventsDropped, MemberFailed, MemberJoined, MemberSuspected, Refuted
from swimlab.reports.oracles import ORACLES, Oracles, bound_s

NODES = ["n0", "n1", "n2"]


def formed() -> list[Any]:
    """Three nodes, formed: each holds the others alive at 0."""
    records: list[Any] = [ts.meta(0.0, "t", 1, "sim", 600.0, NODES, "local", {})]
    for node in NODES:
        records.append(ts.host(0.0, node, "up", "formed"))
    for node in NODES:
        for member in NODES:
            if member != node:
                records.append(ts.notification(0.0, node, MemberJoined(member, 0)))
    return records


def judge(records: list[Any], end: float = 600.0) -> dict[str, Any]:
    oracles = Oracles()
    for record in records:
        oracles.feed(record)
    return {r.name: r for r in oracles.finish(end)}


def test_a_clean_trace_holds_every_oracle() -> None:
    results = judge(formed())
    assert set(results) == set(ORACLES)
    assert all(r.ok is not False for r in results.values()), results
    assert results["converges_after_heal"].ok is True
    assert results["news_not_lost"].ok is True


def test_incarnation_going_down_is_caught_at_its_record() -> None:
    records = formed()
    records.append(ts.notification(5.0, "n0", MemberSuspected("n1", 3, "n0")))
    records.append(ts.notification(6.0, "n0", MemberSuspected("n1", 2, "n2")))  # lower: the bug
    result = judge(records)["incarnations_never_decrease"]
    assert result.ok is False
    assert result.record == len(records)
    assert result.first is not None and result.first["incarnation"] == 2


def test_own_incarnation_going_down_is_caught() -> None:
    records = formed()
    records.append(ts.notification(5.0, "n1", Refuted(4, "suspect", "n0")))
    records.append(ts.notification(6.0, "n1", Refuted(2, "suspect", "n0")))
    assert judge(records)["incarnations_never_decrease"].record == len(records)


def test_a_node_accusing_itself_is_caught() -> None:
    records = formed()
    records.append(ts.notification(5.0, "n2", MemberSuspected("n2", 0, "n0")))
    result = judge(records)["no_self_accusation"]
    assert result.ok is False and result.record == len(records)


def test_a_dead_verdict_without_the_suspicion_is_caught() -> None:
    records = formed()
    records.append(ts.notification(5.0, "n0", MemberSuspected("n1", 0, "n0")))
    records.append(ts.notification(9.0, "n0", MemberFailed("n1", 0, "n0")))  # fine: after suspicion
    assert judge(records)["dead_follows_suspicion"].ok is True
    records = formed()
    records.append(ts.notification(9.0, "n0", MemberFailed("n1", 0, "n0")))  # never suspected
    result = judge(records)["dead_follows_suspicion"]
    assert result.ok is False and result.record == len(records)


def test_a_reachable_node_held_dead_everywhere_too_long_is_caught() -> None:
    records = formed()
    for observer in ("n0", "n2"):
        records.append(ts.notification(10.0, observer, MemberSuspected("n1", 0, observer)))
        records.append(ts.notification(12.0, observer, MemberFailed("n1", 0, observer)))
    limit = bound_s(preset("local"), 3)
    result = judge(records, end=12.0 + limit + 5)["reachable_not_dead_everywhere"]
    assert result.ok is False and "n1" in result.detail
    assert judge(records, end=12.0 + limit - 5)["reachable_not_dead_everywhere"].ok is True
    # Held dead everywhere, then it crashes for good: nothing is owed to a down node (the
    # search found the oracle forgetting this).
    records.append(ts.host(20.0, "n1", "down", "crash"))
    assert judge(records, end=12.0 + limit + 5)["reachable_not_dead_everywhere"].ok is True


def test_views_that_never_converge_after_the_last_fault_are_caught() -> None:
    records = formed()
    records.append(ts.fault(20.0, "heal", []))
    records.append(ts.notification(21.0, "n0", MemberSuspected("n2", 0, "n0")))
    records.append(ts.notification(25.0, "n0", MemberFailed("n2", 0, "n0")))
    result = judge(records)["converges_after_heal"]
    assert result.ok is False and "n0 misses ['n2']" in result.detail
    assert result.record is not None
    # Too short a run after the disturbance: not judged, and the detail says why.
    short = judge(records, end=40.0)["converges_after_heal"]
    assert short.ok is None and "under the bound" in short.detail


def test_news_lost_inside_a_component_is_caught() -> None:
    records = formed()
    records.append(ts.notification(5.0, "n1", Refuted(1, "suspect", "n0")))
    records.append(ts.notification(5.5, "n0", MemberJoined("n1", 0)))  # n2 never hears of 1
    records.append(ts.notification(5.5, "n0", MemberSuspected("n1", 0, "n0")))
    records.append(ts.notification(6.0, "n0", MemberFailed("n1", 0, "n0")))
    result = judge(records)["news_not_lost"]
    assert result.ok is False and "its own incarnation is 1" in result.detail


def test_an_oversized_datagram_is_caught() -> None:
    records = formed()
    records.append(ts.send(1.0, "n0", "n1", "Ping", 90, False))
    records.append(ts.send(1.0, "n0", "n1", "PushPull", 5000, True))  # streams are fine
    assert judge(records)["datagram_budget"].ok is True
    records.append(ts.send(2.0, "n0", "n1", "Gossip", 1500, True))  # a datagram moved to a stream
    result = judge(records)["datagram_budget"]
    assert result.ok is False and result.record == len(records)
    assert judge(formed())["datagram_budget"].ok is None  # no message records: not judged


def test_a_lost_notification_must_be_reported() -> None:
    records = formed()
    records.append(ts.notification(5.0, "n0", MemberFailed("n1", 0, "n2")))  # alive -> dead: fine
    records.append(ts.notification(9.0, "n0", MemberSuspected("n1", 1, "n2")))  # dead -> suspect: lost
    result = judge(records)["events_accounted"]
    assert result.ok is False and result.record == len(records)
    records.insert(-1, ts.notification(8.0, "n0", EventsDropped(2)))  # ... unless reported
    assert judge(records)["events_accounted"].ok is True


def test_an_exception_in_the_runtime_is_a_finding() -> None:
    oracles = Oracles()
    for record in formed():
        oracles.feed(record)
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        oracles.crashed(exc)
    result = {r.name: r for r in oracles.finish(10.0)}["run_completes"]
    assert result.ok is False and "RuntimeError: boom" in result.detail


@pytest.mark.parametrize("name", ["partition_heal", "crash_one"])
def test_library_runs_carry_the_oracles_and_hold_them(name: str) -> None:
    from swimlab.scenarios.loader import load_scenario
    from swimlab.scenarios.runner import run_scenario

    scenario = load_scenario(name, ["cluster.nodes=8"])
    result = run_scenario(scenario, 1)
    names = [o.name for o in result.result.oracles]
    assert names == list(ORACLES)
    assert all(o.ok is not False for o in result.result.oracles), result.result.oracles


def test_a_formed_start_holds_every_oracle() -> None:
    """A formed cluster writes no join notifications: each node holds every initial node alive
    from the start. Before the oracles knew it, news_not_lost and events_accounted fired on every
    formed run (n1 "holds n0 nothing"; a suspicion "after no record")."""
    from swimlab.scenarios.loader import load_scenario
    from swimlab.scenarios.runner import run_scenario

    overrides = ["cluster.nodes=8", "cluster.start=formed", "duration_s=20", "faults.0.at_s=8"]
    result = run_scenario(load_scenario("crash_one", overrides), 1, render=False)
    assert [o.name for o in result.result.oracles if o.ok is False] == []
    assert any(o.name == "news_not_lost" and o.ok for o in result.result.oracles)
