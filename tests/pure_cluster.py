"""`PureCluster`: N protocol Nodes and an in-memory network, with time stepped by hand.

The test-side twin of h11's `ConnectionPair`: no SimPy, no sockets, no Driver — messages and
timers sit in one heap keyed by (time, sequence), so every run is deterministic for a seed. By
default every message goes through the real codec (encode, then decode on delivery), so the
cluster tests exercise the wire format too.

Two network modes:
- automatic: a send is delivered after `latency_s` unless cut, lost or addressed to a crashed node;
- manual (`manual_network=True`): sends wait in `in_flight` until a test delivers, drops,
  duplicates or delays them (the hypothesis state machine uses this).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from swimlab.protocol import codec
from swimlab.protocol.config import Config, lan
from swimlab.protocol.effects import Effects
from swimlab.protocol.events import Event
from swimlab.protocol.messages import MemberState, Message, NodeId
from swimlab.protocol.node import Node
from swimlab.protocol.timers import Timer


@dataclass(order=True, slots=True)
class _Due:
    at: float
    seq: int
    node: NodeId = field(compare=False)
    epoch: int = field(compare=False)
    timer: Timer | None = field(compare=False, default=None)
    src: NodeId = field(compare=False, default="")
    message: Message | None = field(compare=False, default=None)


@dataclass(slots=True)
class InFlight:
    src: NodeId
    dst: NodeId
    message: Message


class PureCluster:
    def __init__(
        self,
        n: int,
        config: Config | None = None,
        seed: int = 0,
        latency_s: float = 0.002,
        manual_network: bool = False,
        wire: bool = True,
    ) -> None:
        self.config = config or lan()
        self.seed = seed
        self.rng = random.Random(seed)
        self.latency_s = latency_s
        self.manual_network = manual_network
        self.wire = wire
        self.now = 0.0
        self.names = [f"n{i:03d}" for i in range(n)]
        self.nodes: dict[NodeId, Node] = {}
        self.epoch: dict[NodeId, int] = {}  # bumped by every crash and restart: stale deliveries drop
        self.lives: dict[NodeId, int] = {}  # how many Node objects each name has had (wiped restarts)
        self.crashed: set[NodeId] = set()
        self.cut: set[tuple[NodeId, NodeId]] = set()  # (src, dst) pairs whose packets are dropped
        self.loss = 0.0
        self.in_flight: list[InFlight] = []
        self.events: list[tuple[float, NodeId, Event]] = []
        self.sent = 0
        # Wraps every input after start_all (a message, a timer, or "start" / "join" / "recover"
        # when a node restarts): `on_input(name, input, run)` must call `run()`
        # (which feeds the node and returns its Effects) and return what it returned.
        self.on_input: Callable[[NodeId, object, Callable[[], Effects]], Effects] | None = None
        self._heap: list[_Due] = []
        self._seq = 0
        for name in self.names:
            self._new_node(name)

    # Building and faults ------------------------------------------------------------------
    def _new_node(self, name: NodeId) -> Node:
        node = Node(name, self.config, random.Random(f"{self.seed}:{name}:{self.epoch.get(name, 0)}"))
        self.nodes[name] = node
        self.epoch[name] = self.epoch.get(name, 0) + 1
        self.lives[name] = self.lives.get(name, 0) + 1
        return node

    def start_all(self, seed_node: NodeId | None = None) -> None:
        """Start every node; all but the seed join through it (one seed, N−1 joiners)."""
        seed = seed_node or self.names[0]
        for name in self.names:
            self.apply(name, self.nodes[name].start(self.now))
        for name in self.names:
            if name != seed:
                self.apply(name, self.nodes[name].join((seed,), self.now))

    def crash(self, name: NodeId) -> None:
        self.crashed.add(name)
        self.epoch[name] += 1  # its pending timers and deliveries now belong to a past life

    def restart(self, name: NodeId, wiped: bool = True, seeds: Iterable[NodeId] = ()) -> None:
        self.crashed.discard(name)
        if wiped:
            node = self._new_node(name)
            self.apply(name, self._input(name, "start", partial(node.start, self.now)))
            live_seeds = tuple(s for s in seeds if s != name)
            if live_seeds:
                self.apply(name, self._input(name, "join", partial(node.join, live_seeds, self.now)))
        else:
            self.epoch[name] += 1
            self.apply(name, self._input(name, "recover", partial(self.nodes[name].recover, self.now)))

    def partition(self, *groups: Iterable[NodeId]) -> None:
        """Cut every link between different groups, both ways."""
        sets = [set(g) for g in groups]
        for a in sets:
            for b in sets:
                if a is not b:
                    self.cut.update((x, y) for x in a for y in b)

    def heal(self) -> None:
        self.cut.clear()

    # Running ------------------------------------------------------------------------------
    def apply(self, name: NodeId, effects: Effects) -> None:
        epoch = self.epoch[name]
        for set_timer in effects.timers:
            self._push(_Due(set_timer.at, self._next_seq(), name, epoch, timer=set_timer.timer))
        for send in effects.sends:
            self.sent += 1
            message = send.message
            if self.wire:
                message = codec.decode(codec.encode(message))
            if self.manual_network:
                self.in_flight.append(InFlight(name, send.dst, message))
            else:
                self._transmit(name, send.dst, message, self.latency_s)
        for event in effects.events:
            self.events.append((self.now, name, event))

    def _transmit(self, src: NodeId, dst: NodeId, message: Message, delay_s: float) -> None:
        if (src, dst) in self.cut or dst not in self.nodes:
            return
        if self.loss and self.rng.random() < self.loss:
            return
        self._push(_Due(self.now + delay_s, self._next_seq(), dst, -1, src=src, message=message))

    def deliver(self, index: int, delay_s: float = 0.0) -> None:
        """Manual mode: hand in-flight message `index` to the network (cuts still apply)."""
        item = self.in_flight.pop(index)
        self._transmit(item.src, item.dst, item.message, delay_s)

    def run_until(self, t: float) -> None:
        heap = self._heap
        while heap and heap[0].at <= t:
            due = heapq.heappop(heap)
            self.now = max(self.now, due.at)
            name = due.node
            if name in self.crashed:
                continue
            node, now = self.nodes[name], self.now
            if due.message is not None:
                run = partial(node.handle_message, due.src, due.message, now)
                self.apply(name, self._input(name, due.message, run))
            elif due.epoch == self.epoch[name]:
                assert due.timer is not None
                self.apply(name, self._input(name, due.timer, partial(node.handle_timer, due.timer, now)))
        self.now = max(self.now, t)

    def _input(self, name: NodeId, what: object, run: Callable[[], Effects]) -> Effects:
        return run() if self.on_input is None else self.on_input(name, what, run)

    def run_for(self, dt: float) -> None:
        self.run_until(self.now + dt)

    def _push(self, due: _Due) -> None:
        heapq.heappush(self._heap, due)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # Observations -------------------------------------------------------------------------
    def live(self) -> list[NodeId]:
        return [n for n in self.names if n not in self.crashed and self.nodes[n].lifecycle.value == "running"]

    def alive_view(self, name: NodeId) -> frozenset[NodeId]:
        """The members `name` believes alive (suspects excluded), itself included."""
        return frozenset(m for m, u in self.nodes[name].view().items() if u.state is MemberState.ALIVE)

    def views_agree(self) -> bool:
        """Every live node believes exactly the live nodes alive."""
        truth = frozenset(self.live())
        return all(self.alive_view(n) == truth for n in truth)

    def events_of(self, kind: type) -> list[tuple[float, NodeId, Event]]:
        return [e for e in self.events if isinstance(e[2], kind)]
