"""EventStream: order, drop-oldest overflow, exact loss accounting, and a reference model."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swimlab.protocol.errors import ConfigError
from swimlab.protocol.event_stream import EventStream
from swimlab.protocol.events import Event, EventsDropped, MemberFailed, MemberJoined


def joined(i: int) -> MemberJoined:
    return MemberJoined(f"m{i}", i)


def poll_all(stream: EventStream) -> list[Event]:
    out: list[Event] = []
    while (event := stream.poll()) is not None:
        out.append(event)
    return out


def test_empty_stream() -> None:
    s = EventStream(3)
    assert s.poll() is None
    assert s.drain() == []
    assert len(s) == 0
    assert s.dropped_total == 0
    assert s.capacity == 3


def test_order_is_preserved() -> None:
    s = EventStream(10)
    events: list[Event] = [joined(1), MemberFailed("m1", 1, "m2"), joined(2)]
    for e in events:
        s.publish(e)
    assert len(s) == 3
    assert poll_all(s) == events
    assert s.dropped_total == 0


def test_overflow_drops_the_oldest_and_reports_the_exact_count_once() -> None:
    s = EventStream(3)
    for i in range(5):
        s.publish(joined(i))
    assert len(s) == 4  # the notice plus three events
    assert s.dropped_total == 2
    assert poll_all(s) == [EventsDropped(2), joined(2), joined(3), joined(4)]
    s.publish(joined(5))
    assert poll_all(s) == [joined(5)]  # no second notice
    assert s.dropped_total == 2


def test_repeated_overflows_accumulate_until_reported() -> None:
    s = EventStream(2)
    for i in range(4):
        s.publish(joined(i))
    for i in range(4, 7):
        s.publish(joined(i))
    assert s.drain() == [EventsDropped(5), joined(5), joined(6)]
    for i in range(7, 10):
        s.publish(joined(i))
    assert s.poll() == EventsDropped(1)
    assert s.dropped_total == 6


def test_notice_goes_exactly_where_the_lost_events_were() -> None:
    s = EventStream(2)
    s.publish(joined(0))
    s.publish(joined(1))
    assert s.poll() == joined(0)
    s.publish(joined(2))
    s.publish(joined(3))  # drops joined(1): delivered 0, lost 1, then 2 and 3
    assert poll_all(s) == [EventsDropped(1), joined(2), joined(3)]


def test_overflow_after_a_notice_was_taken_but_before_the_buffer_was_read() -> None:
    s = EventStream(1)
    s.publish(joined(0))
    s.publish(joined(1))
    assert s.poll() == EventsDropped(1)
    s.publish(joined(2))  # joined(1) is lost too, after the first notice
    assert poll_all(s) == [EventsDropped(1), joined(2)]
    assert s.dropped_total == 2


def test_capacity_one_keeps_only_the_newest() -> None:
    s = EventStream(1)
    for i in range(100):
        s.publish(joined(i))
    assert s.drain() == [EventsDropped(99), joined(99)]


def test_published_events_dropped_notices_are_ordinary_events() -> None:
    """A stream fed by another stream passes the upstream notice along untouched."""
    s = EventStream(2)
    s.publish(EventsDropped(7))
    s.publish(joined(1))
    assert s.drain() == [EventsDropped(7), joined(1)]
    assert s.dropped_total == 0


@pytest.mark.parametrize("capacity", [0, -1, -100])
def test_capacity_below_one_is_refused(capacity: int) -> None:
    with pytest.raises(ConfigError, match="'capacity'"):
        EventStream(capacity)


# -- reference model ------------------------------------------------------------------------


@dataclass(frozen=True)
class Publish:
    pass


@dataclass(frozen=True)
class Poll:
    pass


@dataclass(frozen=True)
class Drain:
    pass


_ops = st.lists(
    st.sampled_from([Publish()] * 3 + [Poll(), Drain()]),  # publish-heavy, so overflow happens
    max_size=200,
)


@given(capacity=st.integers(1, 6), ops=_ops)
def test_every_published_event_is_delivered_in_order_or_counted(
    capacity: int, ops: list[Publish | Poll | Drain]
) -> None:
    stream = EventStream(capacity)
    published: list[MemberJoined] = []
    delivered: list[Event] = []
    for op in ops:
        match op:
            case Publish():
                published.append(joined(len(published)))
                stream.publish(published[-1])
            case Poll():
                if (event := stream.poll()) is not None:
                    delivered.append(event)
                else:
                    assert len(stream) == 0
            case Drain():
                n = len(stream)
                drained = stream.drain()
                assert len(drained) == n
                delivered += drained
        assert len(stream) <= capacity + 1
    delivered += stream.drain()

    # Walk the published sequence: a notice skips exactly `count` events, an event must be the
    # next one published. Nothing is duplicated, reordered or silently lost.
    cursor = 0
    notices = 0
    for event in delivered:
        if isinstance(event, EventsDropped):
            assert event.count >= 1
            cursor += event.count
            notices += event.count
        else:
            assert event is published[cursor]
            cursor += 1
    assert cursor == len(published)
    assert notices == stream.dropped_total
    # Drop-oldest: a lost event always had `capacity` newer ones behind it, so the newest
    # `capacity` events are always delivered, however the consumer read.
    if published:
        assert delivered[-min(capacity, len(published)) :] == published[-capacity:]
