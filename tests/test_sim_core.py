"""The simulator's own machinery, driven by a tiny fake node through the real Driver."""

from __future__ import annotations

import random

import pytest

from swimlab.protocol.config import preset
from swimlab.protocol.effects import Effects, Send, SetTimer
from swimlab.protocol.messages import Ack, MemberState, Ping, PushPull, Update
from swimlab.protocol.timers import GossipTick
from swimlab.sim.clock import ClockError
from swimlab.sim.kernel import Kernel
from swimlab.sim.latency import Constant
from swimlab.sim.network import ReliableModel
from swimlab.sim.rng import derive_seed, stream
from swimlab.sim.simulation import Simulation


class EchoNode:
    """Pings a fixed peer every second (local clock); acks every ping; logs what it saw."""

    def __init__(self, name: str, config: object, rng: random.Random) -> None:
        self.name, self.config, self.rng = name, config, rng
        self.peer = "b" if name == "a" else "a"
        self.seen: list[tuple[str, float]] = []
        self.seq = 0

    def start(self, now: float, known: object = ()) -> Effects:
        return Effects(timers=(SetTimer(now + 1.0, GossipTick()),))

    def join(self, seeds: tuple[str, ...], now: float) -> Effects:
        return Effects()

    def recover(self, now: float) -> Effects:
        return self.start(now)

    def handle_timer(self, timer: object, now: float) -> Effects:
        self.seen.append(("timer", now))
        self.seq += 1
        return Effects(
            sends=(Send(self.peer, Ping(self.seq, self.peer)),),
            timers=(SetTimer(now + 1.0, GossipTick()),),
        )

    def handle_message(self, src: str, message: object, now: float) -> Effects:
        self.seen.append((type(message).__name__, now))
        if isinstance(message, Ping):
            return Effects(sends=(Send(src, Ack(message.seq)),))
        return Effects()


def make_sim(seed: int = 1, **options: object) -> tuple[Simulation, list[dict]]:
    records: list[dict] = []
    sim = Simulation(
        seed,
        preset("lan"),
        records.append,
        latency=Constant(0.01),
        node_factory=EchoNode,
        **options,
    )
    for name in ("a", "b"):
        sim.add_host(name)
        sim.boot(name)
    return sim, records


def test_rng_streams_are_stable_and_independent() -> None:
    assert derive_seed(1, "net", "n1") == derive_seed(1, "net", "n1")
    assert derive_seed(1, "net", "n1") != derive_seed(1, "net", "n2")
    assert stream(7, "x").random() == stream(7, "x").random()


def test_same_instant_ties_are_seeded() -> None:
    def order(seed: int) -> list[int]:
        kernel = Kernel(random.Random(seed))
        out: list[int] = []
        for i in range(20):
            kernel.call_at(1.0, out.append, i)
        kernel.run()
        return out

    assert order(1) == order(1)
    assert order(1) != order(2)
    assert sorted(order(1)) == list(range(20))


def test_ping_ack_roundtrip_and_counters() -> None:
    sim, records = make_sim(trace_messages=True)
    sim.run(3.5)
    a = sim.hosts["a"].node
    assert [k for k, _ in a.seen] == [
        "timer",
        "Ping",
        "Ack",
        "timer",
        "Ping",
        "Ack",
        "timer",
        "Ping",
        "Ack",
    ]
    assert a.seen[2][1] == pytest.approx(1.02)  # ping out 10 ms, ack back 10 ms
    assert sim.network.sent == 12 and sim.network.delivered == 12
    assert [r["kind"] for r in records if r["kind"] in ("send", "deliver")][:2] == ["send", "send"]


def test_crash_drops_in_flight_and_old_timers_restart_kept_rearms() -> None:
    sim, _ = make_sim()
    sim.at(1.005, sim.crash, "b")  # a's ping at 1.0 is in flight to b
    sim.at(2.5, sim.restart, "b", False)
    sim.run(3.2)
    assert sim.network.dropped["down"] >= 1
    b = sim.hosts["b"].node
    # b's timer at 2.0 (old life) never fired; resume re-armed it at 3.5.
    assert [t for k, t in b.seen if k == "timer"] == [pytest.approx(1.0)]


def test_pause_queues_then_bursts() -> None:
    sim, _ = make_sim()
    sim.at(0.5, sim.pause, "b", 2.0)
    sim.run(2.6)
    b = sim.hosts["b"].node
    # Nothing handled during [0.5, 2.5); then the timer due at 1.0 (its successor is armed only
    # when it runs) and a's two pings, all at 2.5, in arrival order.
    late = [(k, round(t, 6)) for k, t in b.seen if t <= 2.5]
    assert all(t == 2.5 for _, t in late)
    assert [k for k, _ in late] == ["timer", "Ping", "Ping"]


def test_partition_is_a_grudge_and_heals() -> None:
    sim, _ = make_sim()
    sim.at(0.5, sim.partition, {"b": frozenset({"a"})})  # one way: b cannot hear a
    sim.at(2.5, sim.heal)
    sim.run(3.5)
    b_pings = [t for k, t in sim.hosts["b"].node.seen if k == "Ping"]
    a_pings = [t for k, t in sim.hosts["a"].node.seen if k == "Ping"]
    assert [round(t, 2) for t in b_pings] == [3.01]
    assert len(a_pings) == 3  # a still hears b


def test_clock_drift_and_forward_step() -> None:
    records: list[dict] = []
    sim = Simulation(1, preset("lan"), records.append, latency=Constant(0.01), node_factory=EchoNode)
    sim.add_host("a", offset_s=100.0, drift_ppm=100_000, track_timers=True)  # 10% fast
    sim.add_host("b")
    sim.boot("a")
    sim.boot("b")
    sim.run(0.5)
    assert sim.hosts["a"].clock.now() == pytest.approx(100.55)
    sim.at(0.6, sim.clock_step, "a", 0.5)  # local jumps past its 101.0 timer: fires at once
    sim.run(1.0)
    timers = [t for k, t in sim.hosts["a"].node.seen if k == "timer"]
    assert timers == [pytest.approx(100.0 + 1.1 * 0.6 + 0.5)]
    assert sim.now == 1.0
    with pytest.raises(ClockError):
        sim.hosts["a"].clock.step(-1.0)


def test_slow_node_handles_late() -> None:
    sim, _ = make_sim()
    sim.set_slow(["b"], 0.3)
    sim.run(1.5)
    assert [(k, round(t, 6)) for k, t in sim.hosts["b"].node.seen if k == "Ping"] == [("Ping", 1.31)]


# The reliable channel under loss (sim/network.py: ReliableModel) ----------------------------


class Scripted(random.Random):
    """A Random whose `random()` returns the given values in order."""

    def __init__(self, *values: float) -> None:
        super().__init__(0)
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


def test_a_lost_segment_waits_the_backed_off_timeouts_and_gives_up_after_max_attempts() -> None:
    model = ReliableModel(rto_s=1.0, backoff=2.0, max_rto_s=3.0, max_attempts=4)
    assert model.late_by(100, 0.2, Scripted(0.9)) == 0.0  # first try through
    assert model.late_by(100, 0.2, Scripted(0.1, 0.1, 0.9)) == 3.0  # lost twice: 1 s + 2 s
    assert model.late_by(100, 0.2, Scripted(0.1, 0.1, 0.1, 0.9)) == 6.0  # capped: 1 + 2 + 3
    assert model.late_by(100, 0.2, Scripted(0.1, 0.1, 0.1, 0.1)) is None  # 4 tries, all lost
    # Three segments, each on its own: the message waits for the slowest.
    assert model.late_by(2500, 0.2, Scripted(0.9, 0.1, 0.9, 0.1, 0.1, 0.9)) == 3.0
    assert ReliableModel("exempt").late_by(100, 0.9, Scripted()) == 0.0  # no draw at all
    with pytest.raises(ValueError, match="max_rto_s >= rto_s"):
        ReliableModel(rto_s=2.0, max_rto_s=1.0)


class PushPullNode(EchoNode):
    """Sends its peer a numbered push-pull (always reliable) every second instead of a ping."""

    def handle_timer(self, timer: object, now: float) -> Effects:
        self.seq += 1
        self.seen.append(("sent", self.seq, now))  # type: ignore[arg-type]
        news = (Update(MemberState.ALIVE, "x", self.seq, "x"),)
        return Effects(sends=(Send(self.peer, PushPull(news)),), timers=(SetTimer(now + 1.0, GossipTick()),))

    def handle_message(self, src: str, message: object, now: float) -> Effects:
        if isinstance(message, PushPull):
            self.seen.append(("got", message.members[0].incarnation, now))  # type: ignore[arg-type]
        return Effects()


def push_pull_lateness(**options: object) -> tuple[list[float], Simulation]:
    """Seconds each of a's push-pulls to b arrived after the 10 ms path delay, and the sim."""
    sim = Simulation(
        3, preset("lan"), [].append, latency=Constant(0.01), node_factory=PushPullNode, **options
    )
    for name in ("a", "b"):
        sim.add_host(name)
        sim.boot(name)
    sim.run(300.0)
    sent = {k: t for kind, k, t in sim.hosts["a"].node.seen if kind == "sent"}  # type: ignore[misc]
    got = [(k, t) for kind, k, t in sim.hosts["b"].node.seen if kind == "got"]  # type: ignore[misc]
    return [round(t - 0.01 - sent[k], 6) for k, t in got], sim


def test_reliable_sends_are_late_not_lost_under_loss_unless_exempt() -> None:
    late, sim = push_pull_lateness(loss=0.3)
    assert len(late) >= sim.network.sent // 2 - 2  # a's sends: all but those still in flight
    assert set(late) <= {0.0, 1.0, 3.0, 7.0, 15.0, 31.0}  # 1 s, doubling: the sums of timeouts
    assert late.count(0.0) > late.count(1.0) > late.count(3.0) > 0  # 70 %, 21 %, 6.3 % ...
    exempt, _ = push_pull_lateness(loss=0.3, reliable=ReliableModel("exempt"))
    assert len(exempt) >= 295 and set(exempt) == {0.0}
    _, gone = push_pull_lateness(loss=1.0)
    assert gone.network.delivered == 0 and gone.network.dropped["loss"] == gone.network.sent
