"""The trace's record kinds are defined once (protocol/trace_schema.py): every protocol
notification has a record, records keep their key order, and a reader refuses a trace written
under another schema version."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from swimlab.protocol import events, trace_schema
from swimlab.protocol.manager import events as mevents
from swimlab.reports.trace import TraceError, TraceWriter, format_record, read_trace

EXAMPLES: dict[type, object] = {
    events.MemberJoined: events.MemberJoined("b", 1),
    events.MemberSuspected: events.MemberSuspected("b", 1, "c"),
    events.MemberAlive: events.MemberAlive("b", 2),
    events.MemberUpdated: events.MemberUpdated("b", 3),
    events.MemberFailed: events.MemberFailed("b", 1, "c"),
    events.MemberLeft: events.MemberLeft("b", 4),
    events.MemberRemoved: events.MemberRemoved("b", 4),
    events.Refuted: events.Refuted(5, "suspect", "c"),
    events.EventsDropped: events.EventsDropped(7),
    mevents.MemberStatusChanged: mevents.MemberStatusChanged("b", mevents.MemberStatus.UNREACHABLE),
    mevents.ServingChanged: mevents.ServingChanged(False, "downed by c"),
    mevents.DowningDecision: mevents.DowningDecision("keep-majority", "down-unreachable", ("b", "c"), 3, 2),
    mevents.PartitionStatusChanged: mevents.PartitionStatusChanged("suspected"),
    mevents.LeaseRequest: mevents.LeaseRequest("a"),
    mevents.LeaseResult: mevents.LeaseResult("a", "denied"),
}


def test_every_notification_kind_has_a_state_record() -> None:
    """A new event class in protocol/events.py (or the manager's) must get its trace record here too."""
    assert set(typing.get_args(events.Event)) == set(EXAMPLES)
    lines = [format_record(trace_schema.notification(1.5, "a", e)) for e in EXAMPLES.values()]  # type: ignore[arg-type]
    assert lines == [
        '{"t":1.500000,"kind":"state","node":"a","event":"joined","member":"b","incarnation":1,"accuser":null}',
        '{"t":1.500000,"kind":"state","node":"a","event":"suspect","member":"b","incarnation":1,"accuser":"c"}',
        '{"t":1.500000,"kind":"state","node":"a","event":"alive","member":"b","incarnation":2,"accuser":null}',
        '{"t":1.500000,"kind":"state","node":"a","event":"updated","member":"b","incarnation":3,"accuser":null}',
        '{"t":1.500000,"kind":"state","node":"a","event":"dead","member":"b","incarnation":1,"accuser":"c"}',
        '{"t":1.500000,"kind":"state","node":"a","event":"left","member":"b","incarnation":4,"accuser":null}',
        '{"t":1.500000,"kind":"state","node":"a","event":"removed","member":"b","incarnation":4,"accuser":null}',
        '{"t":1.500000,"kind":"state","node":"a","event":"refuted","member":"a","incarnation":5,"accuser":"c","accusation":"suspect"}',
        '{"t":1.500000,"kind":"state","node":"a","event":"events_dropped","count":7}',
        '{"t":1.500000,"kind":"view","node":"a","member":"b","status":"unreachable"}',
        '{"t":1.500000,"kind":"serving","node":"a","serving":false,"reason":"downed by c"}',
        '{"t":1.500000,"kind":"decision","node":"a","strategy":"keep-majority","decision":"down-unreachable",'
        '"down":["b","c"],"reachable":3,"unreachable":2}',
        '{"t":1.500000,"kind":"partition_status","node":"a","status":"suspected"}',
        '{"t":1.500000,"kind":"lease","node":"a","op":"request","owner":"a"}',
        '{"t":1.500000,"kind":"lease","node":"a","op":"denied","owner":"a"}',
    ]


def test_constructors_fix_the_key_order() -> None:
    records = [
        trace_schema.host(1.0, "a", "down", "crash"),
        trace_schema.impair(2.0, "a", "loss", True),
        trace_schema.fault(3.0, "loss", ["a"], rate=0.5, duration_s=10.0),
        trace_schema.send(4.0, "a", "b", "Ping", 40, False),
        trace_schema.deliver(4.5, "a", "b", "Ping"),
        trace_schema.drop(4.5, "a", "c", "Ping", "partition"),
        trace_schema.end(9.0, 10, 2, 80, 1, {"partition": 1}, {"a": [2, 80]}),
    ]
    assert [format_record(r) for r in records] == [
        '{"t":1.000000,"kind":"host","node":"a","status":"down","how":"crash"}',
        '{"t":2.000000,"kind":"impair","node":"a","cause":"loss","on":true}',
        '{"t":3.000000,"kind":"fault","op":"loss","nodes":["a"],"rate":0.5,"duration_s":10.0}',
        '{"t":4.000000,"kind":"send","src":"a","dst":"b","msg":"Ping","bytes":40,"reliable":false}',
        '{"t":4.500000,"kind":"deliver","src":"a","dst":"b","msg":"Ping"}',
        '{"t":4.500000,"kind":"drop","src":"a","dst":"c","msg":"Ping","reason":"partition"}',
        '{"t":9.000000,"kind":"end","events":10,"messages_sent":2,"bytes_sent":80,"messages_delivered":1,'
        '"messages_dropped":{"partition":1},"sent_by_node":{"a":[2,80]}}',
    ]


def _write(path: Path, records: list[trace_schema.TraceRecord]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        write = TraceWriter(f)
        for record in records:
            write(record)


def test_a_trace_reads_back_as_written(tmp_path: Path) -> None:
    records: list[trace_schema.TraceRecord] = [
        trace_schema.meta(0.0, "s", 1, "sim", 10.0, ["a", "b"], "lan", {}),
        trace_schema.host(0.0, "a", "up", "boot"),
        trace_schema.notification(0.5, "a", events.MemberJoined("b", 0)),
    ]
    _write(tmp_path / "trace.jsonl", records)
    assert list(read_trace(tmp_path / "trace.jsonl")) == records


def test_a_trace_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    meta = trace_schema.meta(0.0, "s", 1, "sim", 10.0, ["a"], "lan", {})
    meta["schema"] = trace_schema.TRACE_SCHEMA_VERSION + 1
    _write(tmp_path / "trace.jsonl", [meta, trace_schema.host(0.0, "a", "up", "boot")])
    version = trace_schema.TRACE_SCHEMA_VERSION
    with pytest.raises(
        TraceError,
        match=rf"trace\.jsonl:1: trace schema {version + 1}, but this swimlab reads schema {version}",
    ):
        list(read_trace(tmp_path / "trace.jsonl"))


def test_a_trace_from_before_link_state_is_refused(tmp_path: Path) -> None:
    """Schema 1 had no `grudge` records: its false positives cannot be judged by reachability,
    so it is refused rather than misread."""
    meta = trace_schema.meta(0.0, "s", 1, "sim", 10.0, ["a"], "lan", {})
    meta["schema"] = 1
    _write(tmp_path / "trace.jsonl", [meta])
    with pytest.raises(TraceError, match=r"trace schema 1, but this swimlab reads schema 2"):
        list(read_trace(tmp_path / "trace.jsonl"))


def test_a_grudge_record_groups_nodes_that_drop_the_same_set() -> None:
    side_a, side_b = frozenset({"n0", "n1"}), frozenset({"n10", "n2"})
    drops = {"n2": side_a, "n10": side_a, "n0": side_b, "n1": side_b, "n5": frozenset()}
    assert format_record(trace_schema.grudge(4.0, drops)) == (
        '{"t":4.000000,"kind":"grudge","cuts":[{"nodes":["n2","n10"],"drop_from":["n0","n1"]},'
        '{"nodes":["n0","n1"],"drop_from":["n2","n10"]}]}'
    )
    assert trace_schema.grudge(5.0, {})["cuts"] == []
