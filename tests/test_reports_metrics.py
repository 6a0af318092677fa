"""Metrics from hand-written trace records; the result schema refuses what it cannot read;
reports never imports a runtime."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from swimlab.protocol import events, trace_schema
from swimlab.reports.checks import request, run_checks, sweep_verdict, verdict, verdict_reason
from swimlab.reports.metrics import MetricsAccumulator
from swimlab.reports.result import build_result, write_result
from swimlab.reports.schema import (
    RESULT_SCHEMA_VERSION,
    Metrics,
    RunResult,
    SchemaError,
    SweepPoint,
    read_result,
    read_sweep,
    to_json,
)
from swimlab.reports.trace import format_record

REPORTS = Path(__file__).resolve().parent.parent / "reports"


def up(t: float, node: str, how: trace_schema.HostHow = "boot") -> trace_schema.HostRecord:
    return trace_schema.host(t, node, "up", how)


def state(
    t: float, node: str, event: str, member: str, accuser: str | None = None, incarnation: int = 0
) -> trace_schema.StateRecord:
    record = trace_schema.notification(t, node, events.MemberJoined(member, incarnation))
    assert record["event"] == "joined"
    record["event"] = event  # type: ignore[typeddict-item]
    record["accuser"] = accuser if accuser is not None or event not in ("suspect", "dead") else node
    return record


def end(t: float, sent: int, sent_bytes: int, kernel_events: int) -> trace_schema.EndRecord:
    return trace_schema.end(t, kernel_events, sent, sent_bytes, sent, {}, {})


def cut(t: float, *sides: str) -> trace_schema.GrudgeRecord:
    """A grudge record: each side (a string of node names) drops every other side."""
    everyone = set("".join(sides))
    return trace_schema.grudge(t, {x: frozenset(everyone - set(side)) for side in sides for x in side})


def partition(acc: MetricsAccumulator, t: float, *sides: str) -> None:
    """What the simulator records for a partition: the fault, the grudge, the impairments."""
    acc.feed(trace_schema.fault(t, "partition", []))
    acc.feed(cut(t, *sides))
    for x in "".join(sides):
        acc.feed(trace_schema.impair(t, x, "partition", True))


def heal_all(acc: MetricsAccumulator, t: float, nodes: str) -> None:
    acc.feed(trace_schema.fault(t, "heal", []))
    acc.feed(cut(t))
    for x in nodes:
        acc.feed(trace_schema.impair(t, x, "partition", False))


def booted(names: str, preset: str = "lan") -> MetricsAccumulator:
    acc = MetricsAccumulator(sample_every_s=0)
    acc.feed(trace_schema.meta(0.0, "test", 1, "sim", 30.0, list(names), preset, {}))
    for n in names:
        acc.feed(up(0.0, n))
    for o in names:
        for m in names:
            if o != m:
                acc.feed(state(0.0, o, "joined", m))
    return acc


def test_detection_convergence_and_false_positives() -> None:
    acc = booted("abc")
    assert acc.convergence.first_converged_t == 0.0
    acc.feed(state(2.0, "a", "suspect", "b"))  # b is up and reachable: a false positive
    acc.feed(state(2.5, "a", "alive", "b"))
    acc.feed(trace_schema.host(10.0, "c", "down", "crash"))
    assert acc.beliefs.wrong == 2
    acc.feed(state(11.5, "a", "suspect", "c"))
    acc.feed(state(19.5, "a", "dead", "c"))
    acc.feed(state(20.0, "b", "dead", "c", accuser="a"))
    acc.feed(end(20.0, 60, 6000, 100))
    metrics = acc.finish(30.0, wall_s=0.1)
    (d,) = metrics.detection
    assert (d.first_suspect_s, d.first_dead_s, d.dead_everywhere_s) == (1.5, 9.5, 10.0)
    (spread,) = metrics.dissemination
    assert (spread.observers, spread.dead_informed_s, spread.dead_t99_s) == (2, [0.0, 0.5], 0.5)
    assert metrics.false_positives.about_any.raised.suspect == 1
    assert metrics.converged_at_end and metrics.stays_dead == []
    assert metrics.load.messages_per_node_per_s == round(60 / (3 * 10 + 2 * 20), 6)
    checks = run_checks(
        metrics, [request("all_crashed_detected_within", 15.0), request("no_false_positives")]
    )
    assert [c.ok for c in checks] == [True, False] and verdict(checks) == "invalid"


def test_format_is_fixed() -> None:
    assert format_record({"t": 1 / 3, "kind": "x", "v": 0.1}) == '{"t":0.333333,"kind":"x","v":0.1}'


# The false-positive rule (reports/metrics/false_positives.py) ----------------------------------
def test_a_suspicion_across_a_cut_is_deserved_until_a_period_after_the_heal() -> None:
    """lan: probe interval 1 s; a suspicion's evidence window is the longest probe round (8 s),
    a death's one period. Suspecting across a cut is deserved; a death raised 0.5 s after the
    heal is deserved (no refutation could have come back); one raised 3 s after is false, and a
    post-heal false death (the suspicion outlived the cut)."""
    acc = booted("abcd")
    acc.feed(cut(10.0, "ab", "cd"))
    acc.feed(state(11.0, "a", "suspect", "c"))
    acc.feed(state(11.0, "b", "suspect", "d"))
    acc.feed(cut(20.0))  # healed
    acc.feed(state(20.5, "a", "dead", "c"))  # within a period of the heal: deserved
    acc.feed(state(23.0, "b", "dead", "d"))  # three periods after: false, post-heal
    acc.feed(state(23.1, "c", "dead", "d", accuser="b"))  # heard
    fp = acc.finish(30.0, wall_s=0.0).false_positives
    assert fp.about_any.raised.suspect == 0
    ((false_death),) = fp.verdicts
    assert (false_death.accuser, false_death.member, false_death.event) == ("b", "d", "dead")
    assert false_death.post_heal and false_death.heard == 2 and false_death.accuser_healthy
    assert (fp.post_heal_deaths.raised, fp.post_heal_deaths.heard, fp.post_heal_deaths.members) == (
        1,
        2,
        ["d"],
    )


def test_a_suspicion_inherited_from_a_deserved_death_is_deserved() -> None:
    """After a heal, push-pull turns a's death (deserved, held by b) into c's own suspicion,
    recorded as raised by c although c never lost a: deserved while someone holds the deserved
    death; once nobody does, a new suspicion about a is c's own."""
    acc = booted("abcd")
    acc.feed(cut(10.0, "a", "bcd"))
    acc.feed(state(15.0, "b", "dead", "a"))  # across the cut: deserved
    acc.feed(cut(20.0))
    acc.feed(state(30.0, "c", "suspect", "a"))  # c reached a for 10 s, but b's death came to it
    acc.feed(state(31.0, "b", "joined", "a", incarnation=1))
    acc.feed(state(31.0, "c", "alive", "a", incarnation=1))
    acc.feed(state(35.0, "c", "suspect", "a", incarnation=1))  # nobody holds a dead now: c's own
    fp = acc.finish(40.0, wall_s=0.0).false_positives
    assert [(v.accuser, v.t) for v in fp.verdicts] == [("c", 35.0)]


def test_a_cut_on_another_link_does_not_excuse_a_verdict() -> None:
    """The old rule excused any verdict about a node a partition touched; now only a cut of the
    accuser's own link to it does: d is cut from a, not from b."""
    acc = booted("abcd")
    acc.feed(cut(10.0, "a", "bcd"))
    acc.feed(state(12.0, "b", "suspect", "d"))  # b and d are on the same side
    acc.feed(state(12.0, "b", "suspect", "a"))  # a is cut off from b: deserved
    fp = acc.finish(30.0, wall_s=0.0).false_positives
    assert [(v.accuser, v.member) for v in fp.verdicts] == [("b", "d")]
    assert not fp.verdicts[0].post_heal


def test_an_impaired_accusers_verdict_about_a_reachable_node_is_false() -> None:
    """lossy_nodes, seed 7: n38 (80 % loss) suspects n22, its own timer declares n22 dead and
    the death spreads. Loss cuts no link, so it is a false positive, raised by an impaired
    accuser, heard by everyone who took it."""
    acc = booted("abcd")
    acc.feed(trace_schema.impair(5.0, "a", "loss", True))
    acc.feed(state(10.0, "a", "suspect", "b"))
    acc.feed(state(20.0, "a", "dead", "b"))
    acc.feed(state(20.5, "c", "dead", "b", accuser="a"))
    acc.feed(state(20.6, "d", "dead", "b", accuser="a"))
    acc.feed(
        state(21.0, "c", "suspect", "a")
    )  # about the lossy member itself: false, about an impaired member
    fp = acc.finish(30.0, wall_s=0.0).false_positives
    dead = fp.about_any.raised.dead, fp.about_any.raised_by_healthy.dead, fp.about_any.heard.dead
    assert dead == (1, 0, 3)
    assert (fp.about_any.raised.suspect, fp.about_healthy.raised.suspect) == (2, 1)
    checks = run_checks(
        acc.finish(30.0, wall_s=0.0),
        [
            request("no_false_dead"),
            request("no_false_dead", {"count": "raised_by_healthy"}),
            request("no_false_dead", {"count": "heard"}),
        ],
    )
    assert [c.ok for c in checks] == [False, True, False]
    assert [c.name for c in checks] == [
        "no_false_dead",
        "no_false_dead[count=raised_by_healthy]",
        "no_false_dead[count=heard]",
    ]
    assert "1 false dead verdicts raised about any members" in checks[0].detail
    assert "3 false dead verdicts heard" in checks[2].detail


def test_a_paused_or_crashed_member_deserves_its_verdicts() -> None:
    acc = booted("abc")
    acc.feed(trace_schema.impair(5.0, "c", "pause", True))
    acc.feed(state(6.0, "a", "suspect", "c"))
    acc.feed(trace_schema.impair(9.0, "c", "pause", False))
    acc.feed(state(9.5, "b", "suspect", "c"))  # its probe round began during the pause
    acc.feed(state(20.0, "a", "suspect", "c", incarnation=1))  # 11 s after: no longer excused
    acc.feed(trace_schema.host(21.0, "c", "down", "crash"))
    acc.feed(state(25.0, "b", "dead", "c"))
    fp = acc.finish(30.0, wall_s=0.0).false_positives
    assert [(v.accuser, v.t) for v in fp.verdicts] == [("a", 20.0)]


def test_false_positives_are_counted_raised_by_healthy_accusers_and_heard() -> None:
    acc = booted("abcd")
    acc.feed(trace_schema.impair(1.0, "d", "slow", True))
    acc.feed(state(5.0, "d", "suspect", "a"))  # raised by a slow accuser
    acc.feed(state(5.1, "b", "suspect", "a", accuser="d"))  # heard from it
    acc.feed(state(6.0, "b", "suspect", "c"))  # raised by a healthy accuser
    fp = acc.finish(3600.0, wall_s=0.0).false_positives
    t = fp.about_any
    assert (t.heard.suspect, t.raised.suspect, t.raised_by_healthy.suspect) == (3, 2, 1)
    assert t.raised.suspect_per_node_hour == round(2 / 4, 6)  # 4 nodes up for an hour
    assert [(x.accuser, x.member, x.heard) for x in fp.verdicts] == [("d", "a", 2), ("b", "c", 1)]


def test_a_confirmation_is_judged_when_first_heard() -> None:
    """An accuser that already suspects a member writes no record for its own failed probe, but
    its confirmation spreads: judged (and counted raised) when first heard."""
    acc = booted("abc")
    acc.feed(state(5.0, "b", "suspect", "c", accuser="a"))
    fp = acc.finish(30.0, wall_s=0.0).false_positives
    assert [(v.accuser, v.heard, v.t) for v in fp.verdicts] == [("a", 1, 5.0)]


# Views after faults ----------------------------------------------------------------------------
def test_heal_time_is_when_views_agree_and_stay_agreed() -> None:
    """Views agree at once after the heal, then a false death breaks them: the heal converged
    only when they agreed for good (main's code said 0.0 s)."""
    acc = booted("abc")
    partition(acc, 10.0, "a", "bc")
    heal_all(acc, 20.0, "abc")
    acc.feed(state(26.0, "b", "dead", "a"))
    acc.feed(state(27.5, "b", "alive", "a", incarnation=1))
    m = acc.finish(40.0, wall_s=0.0)
    (heal,) = m.recoveries
    assert (heal.op, heal.converged_s, heal.window_s, heal.until) == ("heal", 7.5, 20.0, "end of run")
    (flap,) = m.flaps
    assert (flap.member, flap.down_t, flap.up_t, flap.observers) == ("a", 26.0, 27.5, 1)
    assert m.dead_raised == {"a": [26.0]}
    (back,) = [r for r in m.returns if r.node == "a"]
    assert (back.how, back.back_s) == ("heal", 7.5)
    (check,) = run_checks(m, [request("views_agree_after_heal_within", 5.0)])
    assert check.ok is False and "heal at 20: 7.5 s" in check.detail


def test_each_fault_end_has_its_own_window() -> None:
    """One agreement does not close every pending heal: the first heal's window ends at the next
    fault, and views disagreeing then mean it never converged in its window."""
    acc = booted("abc")
    acc.feed(trace_schema.fault(5.0, "loss", ["a"], rate=0.5))
    acc.feed(trace_schema.fault(10.0, "loss_off", ["a"]))
    acc.feed(state(11.0, "b", "dead", "a"))
    partition(acc, 15.0, "a", "bc")
    heal_all(acc, 25.0, "abc")
    acc.feed(state(30.0, "b", "alive", "a", incarnation=1))
    m = acc.finish(40.0, wall_s=0.0)
    assert [(r.op, r.converged_s, r.window_s) for r in m.recoveries] == [
        ("loss_off", None, 5.0),
        ("heal", 5.0, 15.0),
    ]
    checks = run_checks(
        m,
        [
            request("views_agree_after_heal_within", 10.0),
            request("views_agree_after_heal_within", {"within_s": 10.0, "faults": "all"}),
        ],
    )
    assert [c.ok for c in checks] == [True, None]  # loss_off: its window (5 s) closed before the limit
    assert "could not judge" in checks[1].detail and "loss_off at 10 after 5 s" in checks[1].detail


def test_partition_detection_each_side_drops_the_other() -> None:
    acc = booted("abcd")
    acc.feed(cut(10.0, "ab", "cd"))
    for t, o, m in [
        (12, "a", "c"),
        (13, "a", "d"),
        (14, "b", "c"),
        (15, "b", "d"),
        (16, "c", "a"),
        (17, "c", "b"),
        (18, "d", "a"),
    ]:
        acc.feed(state(float(t), o, "dead", m))
    acc.feed(cut(30.0))
    m = acc.finish(40.0, wall_s=0.0)
    (p,) = m.partitions
    assert (p.t, p.lasted_s, p.nodes, p.detected_s) == (10.0, 20.0, 4, None)  # d never dropped b
    assert p.dropped_all_s == {"a": 3.0, "b": 5.0, "c": 7.0, "d": None}
    assert p.dropped_by_all_s == {"a": 8.0, "b": None, "c": 4.0, "d": 5.0}
    groups = {"left": ["a", "b"], "c_only": ["c"]}
    checks = run_checks(
        m,
        [
            request("partition_detected_within", {"within_s": 10.0, "group": "c_only"}, groups),
            request("partition_detected_within", {"within_s": 10.0, "group": "left"}, groups),
            request("partition_detected_within", {"within_s": 30.0}),
        ],
    )
    assert [c.ok for c in checks] == [True, False, None]  # the cut lasted 20 s < 30 s: undecided
    assert checks[0].name == "partition_detected_within[group=c_only, within_s=10.0]"


def test_a_restarted_node_is_back_when_every_view_holds_it() -> None:
    acc = booted("abc")
    acc.feed(trace_schema.host(10.0, "c", "down", "crash"))
    acc.feed(state(15.0, "a", "dead", "c"))
    acc.feed(state(15.5, "b", "dead", "c", accuser="a"))
    acc.feed(up(20.0, "c", "restart-kept"))
    acc.feed(state(21.0, "a", "joined", "c", incarnation=1))
    acc.feed(state(23.0, "b", "joined", "c", incarnation=1))
    m = acc.finish(40.0, wall_s=0.0)
    (back,) = m.returns
    assert (back.node, back.how, back.back_s) == ("c", "restart", 3.0)
    assert m.flaps == []  # c really went down: not a flap
    checks = run_checks(
        m, [request("back_in_views_within", 2.0), request("no_dead_verdicts", {"from_s": 16.0})]
    )
    assert [c.ok for c in checks] == [False, True]


# Checks and verdicts --------------------------------------------------------------------------
def test_no_checks_is_valid_with_the_reason_said() -> None:
    assert (verdict([]), verdict_reason([])) == ("valid", "no checks")


def test_unknown_names_what_it_could_not_judge() -> None:
    m = booted("ab").finish(30.0, wall_s=0.0)
    results = run_checks(m, [request("views_agree_at_end"), request("views_agree_after_heal_within", 10.0)])
    assert verdict(results) == "unknown"
    assert verdict_reason(results) == "could not judge views_agree_after_heal_within: no heal happened"


def test_a_crash_that_came_back_before_the_limit_is_named() -> None:
    acc = booted("abc")
    acc.feed(trace_schema.host(10.0, "c", "down", "crash"))
    acc.feed(up(12.0, "c", "restart-kept"))
    (check,) = run_checks(acc.finish(30.0, wall_s=0.0), [request("all_crashed_detected_within", 10.0)])
    assert check.ok is None and "c (restarted after 2 s)" in check.detail


def test_the_sweep_verdict_is_its_worst_point() -> None:
    def point(status: str, v: str | None) -> SweepPoint:
        return SweepPoint(id="x", params={}, seed=1, status=status, error=None, verdict=v)  # type: ignore[arg-type]

    assert sweep_verdict([point("ok", "valid")] * 2).verdict == "valid"
    assert sweep_verdict([point("ok", "valid"), point("ok", "unknown")]).verdict == "unknown"
    mixed = sweep_verdict([point("ok", "unknown"), point("ok", "invalid"), point("ok", "valid")])
    assert (mixed.verdict, mixed.valid, mixed.invalid, mixed.unknown) == ("invalid", 1, 1, 1)
    assert sweep_verdict([point("ok", "invalid"), point("error", None)]).verdict == "error"


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
        match=rf"result\.json: schema_version {RESULT_SCHEMA_VERSION + 1}, but this swimlab reads RunResult "
        rf"schema {RESULT_SCHEMA_VERSION}",
    ):
        read_result(tmp_path / "result.json")
    (tmp_path / "sweep.json").write_text(json.dumps({"points": []}))
    with pytest.raises(SchemaError, match=r"sweep\.json: schema_version None, but this swimlab reads Sweep"):
        read_sweep(tmp_path / "sweep.json")


def test_a_bad_field_in_result_json_is_named(tmp_path: Path) -> None:
    data = to_json(_result(booted("ab").finish(30.0, wall_s=0.0)))
    data["metrics"]["false_positives"]["about_any"]["raised"]["dead"] = "none"
    (tmp_path / "result.json").write_text(json.dumps(data))
    with pytest.raises(
        SchemaError,
        match=r"Expected `int`, got `str` - at `\$\.metrics\.false_positives\.about_any\.raised\.dead`",
    ):
        read_result(tmp_path / "result.json")
    data["metrics"]["false_positives"]["about_any"]["raised"]["dead"] = 0
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


def test_dropped_notifications_fail_no_events_dropped() -> None:
    """The views miss transitions when a slow consumer loses notifications: measured before,
    judged by no check; now `no_events_dropped` fails and says how many."""
    acc = booted("ab")
    (check,) = run_checks(acc.finish(30.0, wall_s=0.0), [request("no_events_dropped")])
    assert check.ok
    acc.feed(trace_schema.notification(5.0, "a", events.EventsDropped(3)))
    (check,) = run_checks(acc.finish(30.0, wall_s=0.0), [request("no_events_dropped")])
    assert check.ok is False and check.detail.startswith("3 notifications lost")


def test_a_one_way_cut_is_detected_both_ways() -> None:
    """a cannot hear the others (one_way): they lose a's acks, so both directions must drop."""
    acc = booted("abc")
    acc.feed(trace_schema.grudge(10.0, {"a": frozenset({"b", "c"})}))
    acc.feed(state(14.0, "a", "dead", "b"))
    acc.feed(state(15.0, "a", "dead", "c"))
    acc.feed(state(18.0, "b", "dead", "a"))
    m = acc.finish(40.0, wall_s=0.0)
    (p,) = m.partitions
    assert p.dropped_all_s == {"a": 5.0, "b": 8.0, "c": None}
    assert p.detected_s is None  # c still holds a up


def test_a_node_healed_while_down_is_not_a_return() -> None:
    acc = booted("abc")
    partition(acc, 10.0, "c", "ab")
    acc.feed(trace_schema.host(15.0, "c", "down", "crash"))
    heal_all(acc, 20.0, "abc")
    m = acc.finish(40.0, wall_s=0.0)
    assert [r.node for r in m.returns] == ["a", "b"]
