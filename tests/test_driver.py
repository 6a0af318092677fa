"""The Driver pumps a Node through a Transport and a Clock and never lets peer bytes crash it."""

import random

from hypothesis import given
from hypothesis import strategies as st

from swimlab.protocol import codec
from swimlab.protocol.config import lan
from swimlab.protocol.driver import Driver
from swimlab.protocol.event_stream import EventStream
from swimlab.protocol.events import MemberJoined
from swimlab.protocol.messages import Ack, MemberState, Ping, PushPull, Update
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


@given(st.binary(max_size=300))
def test_garbage_is_counted_and_dropped_and_changes_nothing(data):
    driver, transport, _clock, _ = make_driver()
    before = dict(driver.node.view())
    try:
        codec.decode(data)
    except codec.RemoteProtocolError:
        driver.datagram_received("evil", data)
        assert driver.stats.malformed_dropped == 1
        assert driver.stats.last_error
        assert dict(driver.node.view()) == before and transport.sent == []
