"""Metrics from hand-written trace records; reports never imports a runtime."""

from __future__ import annotations

import ast
from pathlib import Path

from swimlab.reports.checks import run_checks, verdict
from swimlab.reports.metrics import MetricsAccumulator
from swimlab.reports.trace import format_record


def up(t: float, node: str, how: str = "boot") -> dict:
    return {"t": t, "kind": "host", "node": node, "status": "up", "how": how}


def state(t: float, node: str, event: str, member: str) -> dict:
    return {
        "t": t,
        "kind": "state",
        "node": node,
        "event": event,
        "member": member,
        "incarnation": 0,
        "accuser": None,
    }


def test_detection_convergence_and_false_positives() -> None:
    acc = MetricsAccumulator(fp_grace_s=0.0, sample_every_s=0)
    acc.feed({"t": 0.0, "kind": "meta", "nodes": ["a", "b", "c"]})
    for n in "abc":
        acc.feed(up(0.0, n))
    for o in "abc":
        for m in "abc":
            if o != m:
                acc.feed(state(1.0, o, "joined", m))
    assert acc.first_converged_t == 1.0
    acc.feed(state(2.0, "a", "suspect", "b"))  # b is up and unimpaired: a false positive
    acc.feed(state(2.5, "a", "alive", "b"))
    acc.feed({"t": 10.0, "kind": "host", "node": "c", "status": "down", "how": "crash"})
    assert acc.wrong == 2
    acc.feed(state(11.5, "a", "suspect", "c"))
    acc.feed(state(19.5, "a", "dead", "c"))
    acc.feed(state(20.0, "b", "dead", "c"))
    acc.feed({"t": 20.0, "kind": "end", "messages_sent": 60, "bytes_sent": 6000, "events": 100})
    metrics = acc.finish(30.0, wall_s=0.1)
    (d,) = metrics["detection"]
    assert (d["first_suspect_s"], d["first_dead_s"], d["dead_everywhere_s"]) == (1.5, 9.5, 10.0)
    assert metrics["false_positives"]["suspect"] == 1
    assert metrics["converged_at_end"] and metrics["stays_dead"] == []
    checks = run_checks(metrics, {"all_crashed_detected_within": 15.0, "no_false_positives": True})
    assert [c.ok for c in checks] == [True, False] and verdict(checks) == "invalid"


def test_format_is_fixed() -> None:
    assert format_record({"t": 1 / 3, "kind": "x", "v": 0.1}) == '{"t":0.333333,"kind":"x","v":0.1}'


def test_reports_never_imports_a_runtime() -> None:
    for path in Path("reports").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            assert not any(n.split(".")[0] in ("sim", "live") for n in names), path


def test_an_impaired_observers_own_mistake_does_not_fail_no_false_dead() -> None:
    """A lossy node that misses a refutation may hold a live member dead in its own view
    (found at N=40 in lossy_nodes): reported, but only a healthy member's verdict fails the check."""
    acc = MetricsAccumulator(fp_grace_s=0.0, sample_every_s=0)
    acc.feed({"t": 0.0, "kind": "meta", "nodes": ["a", "b", "c"]})
    for n in "abc":
        acc.feed(up(0.0, n))
    acc.feed({"t": 5.0, "kind": "impair", "node": "a", "cause": "loss", "on": True})
    acc.feed(state(10.0, "a", "dead", "b"))  # a is lossy: its own mistake
    acc.feed({"t": 20.0, "kind": "end", "messages_sent": 1, "bytes_sent": 1, "events": 1})
    fp = acc.finish(30.0, wall_s=0.1)["false_positives"]
    assert (fp["dead"], fp["healthy_observers"]["dead"]) == (1, 0)
    (check,) = run_checks(acc.finish(30.0, wall_s=0.1), {"no_false_dead": True})
    assert check.ok
    acc.feed(state(21.0, "c", "dead", "b"))  # c is healthy: the cluster is wrong
    (check,) = run_checks(acc.finish(30.0, wall_s=0.1), {"no_false_dead": True})
    assert not check.ok
