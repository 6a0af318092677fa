"""The manager's metrics and checks from hand-written trace records (reports/metrics/manager.py
states the rules), the [manager] table's validation, and the checks that need it."""

from __future__ import annotations

import pytest

from swimlab.protocol import trace_schema
from swimlab.protocol.manager.events import MemberStatus, MemberStatusChanged, ServingChanged
from swimlab.reports.checks import request, run_checks, verdict
from swimlab.reports.metrics import MetricsAccumulator
from swimlab.reports.schema import ManagerMetrics
from swimlab.scenarios.errors import ScenarioError
from swimlab.scenarios.schema import validate

WINDOW = 10.0
NODES = ["a", "b", "c", "d", "e"]


def started() -> MetricsAccumulator:
    acc = MetricsAccumulator(sample_every_s=0, manager=("keep-majority", WINDOW))
    acc.feed(trace_schema.meta(0.0, "t", 1, "sim", 100.0, NODES, "lan", {}))
    for n in NODES:
        acc.feed(trace_schema.host(0.0, n, "up", "formed"))
        acc.feed(trace_schema.notification(0.0, n, ServingChanged(True, "up")))
        for m in NODES:
            if m != n:
                acc.feed(view(0.0, n, m, MemberStatus.UP))
    return acc


def view(t: float, node: str, member: str, status: MemberStatus) -> trace_schema.TraceRecord:
    return trace_schema.notification(t, node, MemberStatusChanged(member, status))


def split(acc: MetricsAccumulator, t: float, sides: list[list[str]], status: MemberStatus) -> None:
    for side in sides:
        for n in side:
            for other in sides:
                if other is not side:
                    for m in other:
                        acc.feed(view(t, n, m, status))


def stop(acc: MetricsAccumulator, t: float, nodes: list[str], reason: str = "downed by own decision") -> None:
    for n in nodes:
        acc.feed(trace_schema.notification(t, n, ServingChanged(False, reason)))


def finish(acc: MetricsAccumulator, end: float = 100.0) -> ManagerMetrics:
    mm = acc.finish(end, 0.0).manager
    assert mm is not None
    return mm


def test_a_split_resolved_within_the_window_is_no_split_brain() -> None:
    acc = started()
    acc.feed(
        trace_schema.grudge(20.0, {"d": frozenset("abc"), **{x: frozenset("d") for x in "abc"}})
    )  # only d cut
    split(acc, 20.0, [["a", "b", "c"], ["d", "e"]], MemberStatus.UNREACHABLE)
    stop(acc, 29.0, ["d", "e"])  # within the 10 s window
    split(acc, 29.0, [["a", "b", "c"], ["d", "e"]], MemberStatus.DOWN)
    mm = finish(acc)
    assert mm.split_brain_s == 0.0 and mm.split_brain == []
    assert mm.survivors == 3 and mm.serving_at_end == ["a", "b", "c"]
    assert mm.availability == 1.0 and mm.served == 1.0
    assert mm.downed == ["d", "e"] and mm.wrongly_downed == ["e"]  # e: no fault recorded on it


def test_two_sides_serving_apart_past_the_window_is_split_brain() -> None:
    """The planted fault: both sides keep serving. It is measured from window_s after they came
    apart until they come together again (here: never, so until the end), and the check fails."""
    acc = started()
    split(acc, 20.0, [["a", "b", "c"], ["d", "e"]], MemberStatus.UNREACHABLE)
    split(acc, 40.0, [["a", "b", "c"], ["d", "e"]], MemberStatus.DOWN)  # each downs the other
    split(acc, 60.0, [["a", "b", "c"], ["d", "e"]], MemberStatus.UP)  # healed and merged back
    mm = finish(acc)
    assert mm.split_brain == [[30.0, 60.0]] and mm.split_brain_s == 30.0
    metrics = acc.finish(100.0, 0.0)
    checks = run_checks(metrics, [request("no_split_brain"), request("min_survivors", 5.0)])
    assert [c.ok for c in checks] == [False, True] and verdict(checks) == "invalid"
    assert "30.000 s with two serving sides apart beyond the 10.0 s window" in checks[0].detail


def test_one_sided_exclusion_is_not_split_brain() -> None:
    """a, b, c hold d, e unreachable while d and e still hold everyone up: d and e do not act
    without a, b, c, so no pair is apart; the sides (joined by mutual up) are abc and de."""
    acc = started()
    for n in ("a", "b", "c"):
        for m in ("d", "e"):
            acc.feed(view(50.0, n, m, MemberStatus.UNREACHABLE))
    mm = finish(acc)
    assert mm.split_brain_s == 0.0
    assert mm.availability == 1.0 and mm.survivors == 3


def test_availability_needs_a_majority_side_and_served_any_side() -> None:
    acc = started()
    split(acc, 20.0, [["a", "b"], ["c", "d"], ["e"]], MemberStatus.UNREACHABLE)  # no majority anywhere
    stop(acc, 60.0, ["a", "b", "c", "d", "e"])
    mm = finish(acc)
    assert mm.availability == 0.2 and mm.served == 0.6 and mm.survivors == 0


def test_instability_counts_after_warmup_per_node_hour() -> None:
    acc = MetricsAccumulator(sample_every_s=0, warmup_s=10.0, manager=("keep-majority", WINDOW))
    acc.feed(trace_schema.meta(0.0, "t", 1, "sim", 3600.0, ["a", "b"], "lan", {}))
    for n in ("a", "b"):
        acc.feed(trace_schema.host(0.0, n, "up", "formed"))
    acc.feed(view(5.0, "a", "b", MemberStatus.UP))  # during warm-up: not counted
    acc.feed(view(20.0, "a", "b", MemberStatus.UNREACHABLE))
    acc.feed(view(30.0, "a", "b", MemberStatus.UP))
    mm = finish(acc, 3600.0)
    assert mm.instability.manager_changes == 2 and mm.instability.manager_per_node_hour == 1.0


@pytest.mark.parametrize(
    ("manager", "checks", "path", "expected"),
    [
        (
            {"strategy": "keep-majority", "quorum_size": 3},
            {},
            "manager.quorum_size",
            "applies to 'static-quorum'",
        ),
        ({"strategy": "keep-referee", "referee": "n9"}, {}, "manager.referee", "a node name n0..n4"),
        ({"strategy": "static-quorum", "quorum_size": 6}, {}, "manager.quorum_size", "<= cluster.nodes (5)"),
        (
            {"strategy": "keep-majority", "lease_near": "n1"},
            {},
            "manager.lease_near",
            "applies to 'lease-majority'",
        ),
        ({"strategy": "keep-everything"}, {}, "manager.strategy", "one of"),
        ({"strategy": "keep-majority", "tick_s": 0}, {}, "manager.tick_s", "> 0"),
        (None, {"no_split_brain": True}, "checks.no_split_brain", "applies without [manager]"),
    ],
)
def test_the_manager_table_is_validated(
    manager: dict[str, object] | None, checks: dict[str, object], path: str, expected: str
) -> None:
    raw: dict[str, object] = {
        "description": "x",
        "duration_s": 10.0,
        "cluster": {"nodes": 5},
        "checks": checks,
    }
    if manager is not None:
        raw["manager"] = manager
    with pytest.raises(ScenarioError) as info:
        validate(raw, "t.toml")
    assert info.value.path == path and expected in info.value.expected


def test_omitted_strategy_keys_take_their_defaults() -> None:
    raw = {"description": "x", "duration_s": 10.0, "cluster": {"nodes": 7}}
    s = validate(raw | {"manager": {"strategy": "static-quorum"}}, "t.toml").manager
    assert s is not None and s.settings(7).quorum_size == 4
    s = validate(raw | {"manager": {"strategy": "keep-referee"}}, "t.toml").manager
    assert s is not None and s.settings(7).referee == "n0"
    s = validate(raw | {"manager": {"strategy": "lease-majority", "lease_near": "n3"}}, "t.toml").manager
    assert s is not None and s.lease_placement == ("n3", 0.002)
