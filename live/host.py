"""A live host: one protocol Node + the shared Driver, its QUIC endpoint and clock, and its life.

The host is what the Driver sees as its Transport (it forwards to the current endpoint) and owns
what happens to the *process*, as `sim/host.py` does in the simulator:

- crash: the endpoint's socket closes without a word (no CONNECTION_CLOSE), every pending timer
  is dropped, anything queued for the process is forgotten; the epoch changes so late callbacks
  of the old life do nothing.
- restart: a new socket bound at the same address; a wiped restart runs a new Node, a kept one
  resumes the old Node (new incarnation, fresh timers). QUIC connections never survive.
- pause: nothing is processed — no packet handled, no timer fired, nothing sent. Arriving
  packets and due timers queue in arrival order (packets up to the socket's receive buffer
  size, as the kernel would keep them; the rest are dropped and counted) and are handled in one
  burst when the pause ends (a stop-the-world GC).
- slow: each arriving message is handled `slow_s` after it arrived, in order (Lifeguard's
  overloaded node); QUIC itself keeps acknowledging on time.
- the clock (offset, drift, steps) is the host's, so it outlives the processes.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from swimlab.protocol.config import Config
from swimlab.protocol.driver import Conductor, Driver
from swimlab.protocol.events import Event
from swimlab.protocol.messages import Message, NodeId, Update
from swimlab.protocol.node import Node
from swimlab.protocol.timers import Timer

from .clock import LiveClock, TimerCallback
from .credentials import Credentials
from .endpoint import QuicEndpoint
from .network import LiveNetwork
from .udp import Address

NodeFactory = Callable[[NodeId, Config, random.Random], Conductor]
DriverFactory = Callable[..., Driver]  # (node, transport, clock, on_event): a ManagerDriver for a manager


class LiveHost:
    def __init__(
        self,
        name: NodeId,  # "" (no network shim): the endpoint's "host:port"
        loop: asyncio.AbstractEventLoop,
        address: Address,
        credentials: Credentials,
        config: Config,
        clock: LiveClock,
        *,
        network: LiveNetwork | None = None,
        address_book: dict[NodeId, Address] | None = None,
        on_event: Callable[[NodeId, Event], None] | None = None,
        node_rng: Callable[[NodeId, int], random.Random] | None = None,
        node_factory: NodeFactory = Node,
        driver_factory: DriverFactory = Driver,
        endpoint_options: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.loop = loop
        self.credentials = credentials
        self.config = config
        self.clock = clock
        self.network = network
        self.address_book = address_book if address_book is not None else {}
        self.on_event = on_event
        self.node_rng = node_rng or (lambda name, life: random.Random(f"{name}:{life}"))
        self.node_factory = node_factory
        self.driver_factory = driver_factory
        self.endpoint_options = endpoint_options or {}
        self.up = False
        self.paused = False
        self.slow_s = 0.0
        self.epoch = 0
        self.lives = 0
        self.node: Conductor | None = None  # a Node, or a ClusterManager wrapping one
        self.driver: Driver | None = None
        self.drivers: list[Driver] = []  # one per life: their counters, summed, are this host's load
        self.pause_overflow_dropped = 0
        self._backlog: list[tuple[str, Any, Any, Any]] = []  # (kind, ...) in arrival order
        self._backlog_bytes = 0
        self._slow_queue: deque[tuple[float, NodeId, bytes]] = deque()
        clock.dispatch = self._timer_due
        self.endpoint = self._bind(address)
        self.address = self.endpoint.address
        self.name = name or self.endpoint.name  # "": named after its socket, as `swimlab node` is

    # protocol.transport.Transport ---------------------------------------------------------
    def send(self, dst: NodeId, payload: bytes, message: Message, reliable: bool) -> None:
        if self.up and not self.paused:
            self.endpoint.send(dst, payload, message, reliable)

    # Process life -------------------------------------------------------------------------
    def boot(self, known: Iterable[Update] = (), join_seeds: Iterable[NodeId] = ()) -> None:
        """Start a fresh Node (a new life) and join it through `join_seeds` (others than itself)."""
        if self.endpoint.closed:
            self.endpoint = self._bind(self.address)
        self.lives += 1
        self.node = self.node_factory(self.name, self.config, self.node_rng(self.name, self.lives))
        on_event = None if self.on_event is None else self._forward_event(self.on_event)
        self.driver = self.driver_factory(self.node, self, self.clock, on_event)
        self.drivers.append(self.driver)
        self.up = True
        known = tuple(known)
        self.driver.start(known)
        seeds = tuple(s for s in join_seeds if s != self.name)
        if seeds and not known:
            self.driver.join(seeds)

    def crash(self) -> None:
        self.up = False
        self.paused = False
        self.epoch += 1
        self.endpoint.close()
        self.clock.reset()
        self._backlog.clear()
        self._backlog_bytes = 0
        self._slow_queue.clear()

    def restart(self, wiped: bool, join_seeds: Iterable[NodeId] = ()) -> None:
        """Come back at the same address: a new Node (wiped) or the old one resumed (kept)."""
        if self.up:
            self.crash()
        if wiped or self.driver is None:
            self.boot(join_seeds=join_seeds)
            return
        self.endpoint = self._bind(self.address)
        self.up = True
        self.driver.recover()

    def leave(self) -> None:
        if self.up and self.driver is not None:
            self.driver.leave()

    def pause(self) -> None:
        if self.up:
            self.paused = True
            self.endpoint.hold_timer()

    def unpause(self) -> None:
        """End a pause: handle everything that queued up, in arrival order, right now."""
        if not self.paused:
            return
        self.paused = False
        backlog, self._backlog = self._backlog, []
        self._backlog_bytes = 0
        epoch = self.epoch
        for index, (kind, a, b, c) in enumerate(backlog):
            if epoch != self.epoch or not self.up:
                return
            if self.paused:  # paused again while draining: the rest waits for that pause
                self._backlog[:0] = backlog[index:]
                return
            if kind == "timer":
                self.clock.reached(a)
                b(c)
            elif kind == "packet":
                self.endpoint.packet_received(a, b)
            elif self.driver is not None:
                self.driver.datagram_received(a, b)
        self.endpoint.release_timer()

    # Inputs -------------------------------------------------------------------------------
    def _packet_in(self, data: bytes, addr: Address) -> None:
        if not self.paused:
            self.endpoint.packet_received(data, addr)
            return
        buffer_bytes = self.endpoint.udp.receive_buffer_bytes if self.endpoint.udp else 0
        if self._backlog_bytes + len(data) > buffer_bytes:
            self.pause_overflow_dropped += 1  # the kernel's receive buffer would be full too
            return
        self._backlog_bytes += len(data)
        self._backlog.append(("packet", data, addr, None))

    def _timer_due(self, when: float, callback: TimerCallback, timer: Timer) -> None:
        if self.paused:
            self._backlog.append(("timer", when, callback, timer))
            return
        self.clock.reached(when)
        callback(timer)

    def _message_in(self, src: NodeId, data: bytes) -> None:
        driver = self.driver
        if driver is None or not self.up:
            return
        if not self.slow_s:
            driver.datagram_received(src, data)
            return
        self._slow_queue.append((self.loop.time() + self.slow_s, src, data))
        if len(self._slow_queue) == 1:
            self.loop.call_at(self._slow_queue[0][0], self._handle_slow, self.epoch)

    def _handle_slow(self, epoch: int) -> None:
        if epoch != self.epoch:
            return
        queue = self._slow_queue
        now = self.loop.time()
        while queue and queue[0][0] <= now:
            _due, src, data = queue.popleft()
            if self.paused:  # handled with the rest of the backlog when the pause ends
                self._backlog.append(("message", src, data, None))
            elif self.driver is not None:
                self.driver.datagram_received(src, data)
        if queue:
            self.loop.call_at(queue[0][0], self._handle_slow, epoch)

    # Wiring -------------------------------------------------------------------------------
    def _bind(self, address: Address) -> QuicEndpoint:
        endpoint = QuicEndpoint.bind(
            self.loop, address[0], address[1], self.credentials, **self.endpoint_options
        )
        endpoint.address_book = self.address_book
        endpoint.on_receive = self._message_in
        assert endpoint.udp is not None
        if self.network is not None:
            endpoint.udp.on_packet = self.network.attach(
                self.name, endpoint, endpoint.udp.sendto, self._packet_in
            )
        else:
            endpoint.udp.on_packet = self._packet_in
        return endpoint

    def _forward_event(self, on_event: Callable[[NodeId, Event], None]) -> Callable[[Event], None]:
        name = self.name

        def forward(event: Event) -> None:
            on_event(name, event)

        return forward
