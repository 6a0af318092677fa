"""Metrics from hand-written trace records; the result schema refuses what it cannot read;
reports never imports a runtime."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from swimlab.protocol import events, trace_schema
from swimlab.reports.checks import run_checks, verdict
from swimlab.reports.metrics import MetricsAccumulator
from swimlab.reports.result import build_result, write_result
from swimlab.reports.schema import (
    RESULT_SCHEMA_VERSION,
    Metrics,
    RunResult,
    SchemaError,
    read_result,
    read_sweep,
    to_json,
)
from swimlab.reports.trace import format_record

REPORTS = Path(__file__).resolve().parent.parent / "reports"


def up(t: float, node: str, how: trace_schema.HostHow = "boot") -> trace_schema.HostRecord:
    return trace_schema.host(t, node, "up", how)


def state(
    t: float, node: str, event: str, member: str, accuser: str | None = None
) -> trace_schema.StateRecord:
    record = trace_schema.notification(t, node, events.MemberJoined(member, 0))
    assert record["event"] == "joined"
    record["event"] = event  # type: ignore[typeddict-item]
    record["accuser"] = accuser
    return record


def end(t: float, sent: int, sent_bytes: int, kernel_events: int) -> trace_schema.EndRecord:
    return trace_schema.end(t, kernel_events, sent, sent_bytes, sent, {}, {})


def booted(names: str) -> MetricsAccumulator:
    acc = MetricsAccumulator(fp_grace_s=0.0, sample_every_s=0)
    acc.feed(trace_schema.meta(0.0, "test", 1, "sim", 30.0, list(names), "lan", {}))
    for n in names:
        acc.feed(up(0.0, n))
    return acc


def test_detection_convergence_and_false_positives() -> None:
    acc = booted("abc")
    for o in "abc":
        for m in "abc":
            if o != m:
                acc.feed(state(1.0, o, "joined", m))
    assert acc.convergence.first_converged_t == 1.0
    acc.feed(state(2.0, "a", "suspect", "b"))  # b is up and unimpaired: a false positive
    acc.feed(state(2.5, "a", "alive", "b"))
    acc.feed(trace_schema.host(10.0, "c", "down", "crash"))
    assert acc.beliefs.wrong == 2
    acc.feed(state(11.5, "a", "suspect", "c"))
    acc.feed(state(19.5, "a", "dead", "c"))
    acc.feed(state(20.0, "b", "dead", "c"))
    acc.feed(end(20.0, 60, 6000, 100))
    metrics = acc.finish(30.0, wall_s=0.1)
    (d,) = metrics.detection
    assert (d.first_suspect_s, d.first_dead_s, d.dead_everywhere_s) == (1.5, 9.5, 10.0)
    (spread,) = metrics.dissemination
    assert (spread.observers, spread.dead_informed_s, spread.dead_t99_s) == (2, [0.0, 0.5], 0.5)
    assert metrics.false_positives.suspect == 1
    assert metrics.converged_at_end and metrics.stays_dead == []
    assert metrics.load.messages_per_node_per_s == round(60 / (3 * 10 + 2 * 20), 6)
    checks = run_checks(metrics, {"all_crashed_detected_within": 15.0, "no_false_positives": True})
    assert [c.ok for c in checks] == [True, False] and verdict(checks) == "invalid"


def test_format_is_fixed() -> None:
    assert format_record({"t": 1 / 3, "kind": "x", "v": 0.1}) == '{"t":0.333333,"kind":"x","v":0.1}'


def test_an_impaired_observers_own_mistake_does_not_fail_no_false_dead() -> None:
    """A lossy node that misses a refutation may hold a live member dead in its own view
    (found at N=40 in lossy_nodes): reported, but only a healthy member's verdict fails the check."""
    acc = booted("abc")
    acc.feed(trace_schema.impair(5.0, "a", "loss", True))
    acc.feed(state(10.0, "a", "dead", "b"))  # a is lossy: its own mistake
    acc.feed(end(20.0, 1, 1, 1))
    fp = acc.finish(30.0, wall_s=0.1).false_positives
    assert (fp.dead, fp.healthy_observers.dead) == (1, 0)
    (check,) = run_checks(acc.finish(30.0, wall_s=0.1), {"no_false_dead": True})
    assert check.ok
    acc.feed(state(21.0, "c", "dead", "b"))  # c is healthy: the cluster is wrong
    (check,) = run_checks(acc.finish(30.0, wall_s=0.1), {"no_false_dead": True})
    assert not check.ok


def test_false_positives_are_counted_heard_raised_and_by_healthy_accusers() -> None:
    acc = booted("abcd")
    acc.feed(trace_schema.impair(1.0, "d", "slow", True))
    acc.feed(state(5.0, "d", "suspect", "a", accuser="d"))  # raised by a slow accuser
    acc.feed(state(5.1, "b", "suspect", "a", accuser="d"))  # heard from it
    acc.feed(state(6.0, "b", "suspect", "c", accuser="b"))  # raised by a healthy accuser
    fp = acc.finish(3600.0, wall_s=0.0).false_positives
    assert (fp.suspect, fp.originated.suspect, fp.healthy_accusers.suspect) == (3, 2, 1)
    assert fp.healthy_observers.suspect == 2  # b twice; d is impaired
    assert [(x.observer, x.member, x.accuser) for x in fp.examples] == [
        ("d", "a", "d"),
        ("b", "a", "d"),
        ("b", "c", "b"),
    ]


def _result(metrics: Metrics) -> RunResult:
    return build_result(
        scenario="s",
        seed=1,
        runtime="sim",
        checks=[],
        verdict="valid",
        metrics=metrics,
        description="",
        nodes=3,
        preset="lan",
        duration_s=30.0,
        config_overrides={},
        config={"probe_interval_s": 1.0},
        loss=0.0,
        command="swimlab run s",
    )


def test_result_json_reads_back_as_written(tmp_path: Path) -> None:
    acc = booted("abc")
    acc.feed(trace_schema.host(10.0, "c", "down", "crash"))
    result = _result(acc.finish(30.0, wall_s=0.25))
    write_result(tmp_path / "result.json", result)
    assert json.loads((tmp_path / "result.json").read_text())["schema_version"] == RESULT_SCHEMA_VERSION
    assert read_result(tmp_path / "result.json") == result


def test_result_json_of_another_version_is_refused(tmp_path: Path) -> None:
    data = to_json(_result(booted("ab").finish(30.0, wall_s=0.0)))
    data["schema_version"] = RESULT_SCHEMA_VERSION + 1
    (tmp_path / "result.json").write_text(json.dumps(data))
    with pytest.raises(
        SchemaError,
        match=rf"result\.json: schema_version {RESULT_SCHEMA_VERSION + 1}, but this swimlab reads RunResult schema {RESULT_SCHEMA_VERSION}",
    ):
        read_result(tmp_path / "result.json")
    (tmp_path / "sweep.json").write_text(json.dumps({"points": []}))
    with pytest.raises(SchemaError, match=r"sweep\.json: schema_version None, but this swimlab reads Sweep"):
        read_sweep(tmp_path / "sweep.json")


def test_a_bad_field_in_result_json_is_named(tmp_path: Path) -> None:
    data = to_json(_result(booted("ab").finish(30.0, wall_s=0.0)))
    data["metrics"]["false_positives"]["dead"] = "none"
    (tmp_path / "result.json").write_text(json.dumps(data))
    with pytest.raises(
        SchemaError, match=r"Expected `int`, got `str` - at `\$\.metrics\.false_positives\.dead`"
    ):
        read_result(tmp_path / "result.json")
    data["metrics"]["false_positives"]["dead"] = 0
    data["metrics"]["load"]["speed"] = 1
    (tmp_path / "result.json").write_text(json.dumps(data))
    with pytest.raises(SchemaError, match=r"unknown field `speed` - at `\$\.metrics\.load`"):
        read_result(tmp_path / "result.json")


def _imported_modules(path: Path) -> list[str]:
    """Absolute names of every module `path` imports, relative imports resolved."""
    package = ["swimlab", *path.parent.relative_to(REPORTS.parent).parts]
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            names.append(".".join([*base, *([node.module] if node.module else [])]))
    return names


def test_reports_never_imports_a_runtime() -> None:
    paths = sorted(REPORTS.rglob("*.py"))
    assert len(paths) >= 10, f"found only {paths} under {REPORTS}"
    for path in paths:
        for name in _imported_modules(path):
            parts = name.split(".")
            runtime = parts[1] if parts[0] == "swimlab" and len(parts) > 1 else parts[0]
            assert runtime not in ("sim", "live"), f"{path} imports {name}"


def test_report_on_a_result_of_another_version_says_so(tmp_path: Path) -> None:
    from swimlab.reports.render import ReportError, render

    data = to_json(_result(booted("ab").finish(30.0, wall_s=0.0)))
    data["schema_version"] = 0
    (tmp_path / "result.json").write_text(json.dumps(data))
    with pytest.raises(
        ReportError,
        match=f"schema_version 0, but this swimlab reads RunResult schema {RESULT_SCHEMA_VERSION}",
    ):
        render(tmp_path)
