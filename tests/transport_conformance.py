"""One conformance suite for every runtime's Transport and Clock (trio's `check_*` pattern).

`check_transport(make_pair)` states what the Driver relies on; the simulator passes it today and
the live QUIC endpoint must pass the same suite. A runtime supplies a `Pair`: two endpoints
named "a" and "b" whose received messages land in `inbox_b`, plus `settle(seconds)` to let
that much (simulated or real) time pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from swimlab.protocol import codec
from swimlab.protocol.messages import Gossip, MemberState, Message, NodeId, Ping, PushPull, Update
from swimlab.protocol.timers import ProbeTick, Timer
from swimlab.protocol.transport import Clock, Transport


@dataclass
class Pair:
    transport_a: Transport
    clock_a: Clock
    inbox_b: list[tuple[NodeId, Message]]
    settle: Callable[[float], None]
    fired: list[tuple[float, Timer]] = field(default_factory=list)


def _send(pair: Pair, dst: NodeId, message: Message, reliable: bool = False) -> None:
    pair.transport_a.send(dst, codec.encode(message), message, reliable)


def check_transport(make_pair: Callable[[], Pair]) -> None:
    # A datagram arrives once, from its sender, equal to what was sent.
    pair = make_pair()
    ping = Ping(7, "b", (Update(MemberState.ALIVE, "a", 3, "a"),))
    _send(pair, "b", ping)
    pair.settle(1.0)
    assert pair.inbox_b == [("a", ping)], pair.inbox_b

    # Full state over the reliable path arrives intact, however large.
    pair = make_pair()
    state = PushPull(tuple(Update(MemberState.ALIVE, f"member-{i:05d}", i, "a") for i in range(2000)))
    _send(pair, "b", state, reliable=True)
    pair.settle(1.0)
    assert pair.inbox_b == [("a", state)]

    # An unknown or unreachable destination is silence, never an exception.
    pair = make_pair()
    _send(pair, "nobody", Gossip((Update(MemberState.DEAD, "x", 1, "a"),)))
    pair.settle(1.0)
    assert pair.inbox_b == []

    # Messages are not merged or split: three sends, three deliveries.
    pair = make_pair()
    for seq in range(3):
        _send(pair, "b", Ping(seq, "b"))
    pair.settle(1.0)
    assert sorted(m.seq for _src, m in pair.inbox_b if isinstance(m, Ping)) == [0, 1, 2]

    # The clock fires a timer once, not before its local deadline; a past deadline fires at once.
    pair = make_pair()
    clock = pair.clock_a
    start = clock.now()

    def record(timer: Timer) -> None:
        pair.fired.append((clock.now(), timer))

    clock.call_at(start + 0.5, record, ProbeTick())
    clock.call_at(start - 10.0, record, ProbeTick())
    pair.settle(1.0)
    assert len(pair.fired) == 2
    (late_at, _), (on_time_at, _) = pair.fired
    assert late_at < start + 0.5 <= on_time_at
    assert clock.now() >= start + 1.0 - 1e-9
