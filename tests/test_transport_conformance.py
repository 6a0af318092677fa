"""The simulator's Transport and Clock pass the conformance suite the live runtime will pass."""

from __future__ import annotations

import random

import pytest

from swimlab.protocol.config import preset
from swimlab.protocol.effects import NO_EFFECTS, Effects
from swimlab.protocol.messages import Message, NodeId
from swimlab.sim.latency import Constant
from swimlab.sim.simulation import Simulation

from .transport_conformance import Pair, check_transport


class InboxNode:
    """A node that only records what reaches it."""

    def __init__(self, name: str, config: object, rng: random.Random) -> None:
        self.name, self.config = name, config
        self.inbox: list[tuple[NodeId, Message]] = []

    def start(self, now: float, known: object = ()) -> Effects:
        return NO_EFFECTS

    def handle_message(self, src: NodeId, message: Message, now: float) -> Effects:
        self.inbox.append((src, message))
        return NO_EFFECTS

    def handle_timer(self, timer: object, now: float) -> Effects:
        return NO_EFFECTS


@pytest.mark.parametrize("full_decode", [False, True], ids=["shared-objects", "full-decode"])
@pytest.mark.parametrize("offset_s", [0.0, 1234.5])
def test_sim_transport_conforms(full_decode: bool, offset_s: float) -> None:
    def make_pair() -> Pair:
        sim = Simulation(
            1,
            preset("lan"),
            lambda record: None,
            latency=Constant(0.01),
            node_factory=InboxNode,
            full_decode=full_decode,
        )
        for name in ("a", "b"):
            sim.add_host(name, offset_s=offset_s, drift_ppm=300.0)
            sim.boot(name)
        a, b = sim.hosts["a"], sim.hosts["b"]
        return Pair(a, a.clock, b.node.inbox, lambda s: sim.run(until=sim.now + s))

    check_transport(make_pair)


class _LoopbackClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.timers: list[tuple[float, object, object]] = []

    def now(self) -> float:
        return self.t

    def call_at(self, when, callback, timer) -> None:  # type: ignore[no-untyped-def]
        self.timers.append((when, callback, timer))

    def settle(self, seconds: float) -> None:
        until = self.t + seconds
        due = sorted((t for t in self.timers if t[0] <= until), key=lambda t: t[0])
        self.timers = [t for t in self.timers if t[0] > until]
        for when, callback, timer in due:
            self.t = max(self.t, when)  # each timer runs at its own deadline
            callback(timer)  # type: ignore[operator]
        self.t = until


@pytest.mark.parametrize("fault", ["none", "duplicates", "drops_reliable", "raises_on_unknown"])
def test_the_suite_rejects_a_broken_transport(fault: str) -> None:
    """The suite can fail: each deliberately broken in-memory transport is caught, while the
    same transport without the fault passes."""

    def make_pair() -> Pair:
        inbox: list[tuple[NodeId, Message]] = []
        clock = _LoopbackClock()

        class Broken:
            def send(self, dst: NodeId, payload: bytes, message: Message, reliable: bool) -> None:
                if dst != "b":
                    if fault == "raises_on_unknown":
                        raise ConnectionError(dst)
                    return
                if reliable and fault == "drops_reliable":
                    return
                inbox.extend([("a", message)] * (2 if fault == "duplicates" else 1))

        return Pair(Broken(), clock, inbox, clock.settle)

    if fault == "none":
        check_transport(make_pair)
        return
    with pytest.raises((AssertionError, ConnectionError)):
        check_transport(make_pair)
