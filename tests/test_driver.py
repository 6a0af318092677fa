"""The Driver pumps a Node through a Transport and a Clock and never lets peer bytes crash it."""

import random

from hypothesis import example, given
from hypothesis import strategies as st

from swimlab.protocol import codec
from swimlab.protocol.config import lan
from swimlab.protocol.driver import Driver
from swimlab.protocol.event_stream import EventStream
from swimlab.protocol.events import MemberJoined
from swimlab.protocol.messages import Ack, MemberState, Ping, PushPull, StreamAck, StreamPing, Update
from swimlab.protocol.node import Node
from swimlab.protocol.timers import ProbeTick


class FakeTransport:
    def __init__(self):
        self.sent = []

    def send(self, dst, payload, message, reliable):
        self.sent.append((dst, payload, message, reliable))


class FakeClock:
    def __init__(self):
        self.t = 0.0
        self.timers = []

    def now(self):
        return self.t

    def call_at(self, when, callback, timer):
        self.timers.append((when, callback, timer))


def make_driver(name="a"):
    transport, clock, stream = FakeTransport(), FakeClock(), EventStream(capacity=4)
    driver = Driver(Node(name, lan(), random.Random(0)), transport, clock, on_event=stream.publish)
    driver.start()
    return driver, transport, clock, stream


def test_start_arms_timers_through_the_clock_and_timer_callbacks_reach_the_node():
    _driver, transport, clock, _ = make_driver()
    assert [type(t[2]).__name__ for t in clock.timers] == [
        "ProbeTick",
        "GossipTick",
        "PushPullTick",
        "ReconnectTick",
    ]
    when, callback, timer = clock.timers[0]
    clock.t = when
    callback(timer)  # a lone node has nobody to probe: it re-arms the tick
    assert isinstance(clock.timers[-1][2], ProbeTick)
    assert transport.sent == []


def test_bytes_in_are_decoded_and_replies_go_out_encoded_with_reliability_chosen():
    driver, transport, clock, stream = make_driver()
    clock.t = 1.0
    driver.datagram_received(
        "b", codec.encode(PushPull((Update(MemberState.ALIVE, "b", 0, "b"),), join=True))
    )
    ((dst, payload, message, reliable),) = transport.sent
    assert dst == "b" and reliable  # full state goes over a stream
    assert (
        codec.decode(payload)
        == message
        == PushPull((Update(MemberState.ALIVE, "a", 0, "a"),), join=True, reply=True)
    )
    assert stream.poll() == MemberJoined("b", 0)
    driver.datagram_received("b", codec.encode(Ping(7, "a")))
    assert transport.sent[-1][2] == Ack(7, (Update(MemberState.ALIVE, "b", 0, "b"),))
    assert transport.sent[-1][3] is False
    assert driver.stats.messages_sent == 2 and driver.stats.bytes_sent == sum(
        len(s[1]) for s in transport.sent
    )


def mangled_datagrams() -> st.SearchStrategy[bytes]:
    """Random bytes, and valid datagrams truncated or with one byte changed: both kinds of input."""
    valid = st.sampled_from(
        [
            codec.encode(Ping(7, "a", (Update(MemberState.SUSPECT, "c", 3, "b"),))),
            codec.encode(Ack(7)),
            codec.encode(PushPull((Update(MemberState.ALIVE, "b", 0, "b"),), join=True)),
        ]
    )
    mangled = st.tuples(valid, st.integers(0, 200), st.integers(0, 255), st.booleans()).map(
        lambda t: t[0][: t[1]] if t[3] else t[0][: t[1]] + bytes([t[2]]) + t[0][t[1] + 1 :]
    )
    return st.one_of(st.binary(max_size=300), valid, mangled)


@example(b"")  # the empty datagram
@example(b"\xff" * 8)  # no valid version byte
@given(mangled_datagrams())
def test_undecodable_bytes_are_counted_and_dropped_and_decodable_ones_reach_the_node(data):
    driver, transport, _clock, _ = make_driver()
    before = dict(driver.node.view())
    try:
        codec.decode(data)
    except codec.RemoteProtocolError as exc:
        expected_error: str | None = str(exc)
    else:
        expected_error = None
    driver.datagram_received("evil", data)
    stats = driver.stats
    if expected_error is not None:
        assert (stats.malformed_dropped, stats.messages_received) == (1, 0)
        assert stats.last_error == expected_error  # the codec's own words, naming what is wrong
        assert dict(driver.node.view()) == before and transport.sent == []
    else:
        # Decodable (even if mangled into another valid message): handed to the node, not counted as garbage.
        assert (stats.malformed_dropped, stats.messages_received, stats.last_error) == (0, 1, "")


def test_a_truncated_datagram_is_counted_with_the_codecs_error():
    driver, transport, _clock, _ = make_driver()
    data = codec.encode(Ping(7, "a"))[:-1]
    driver.datagram_received("evil", data)
    assert driver.stats.malformed_dropped == 1 and driver.stats.messages_received == 0
    assert driver.stats.last_error and transport.sent == []


def test_the_fallback_probe_and_its_answer_go_on_the_reliable_channel():
    driver, transport, clock, _ = make_driver()
    clock.t = 1.0
    driver.datagram_received("b", codec.encode(StreamPing(9, "a")))
    ((dst, payload, message, reliable),) = transport.sent
    assert (dst, message, reliable) == ("b", StreamAck(9), True)
    assert codec.decode(payload) == message
    driver.datagram_received("b", codec.encode(Ping(10, "a")))
    assert transport.sent[-1][3] is False  # an ordinary ack stays a datagram
