"""A simulated host: one protocol Node + the shared Driver, its clock, and its process life.

The host is the node's transport (it hands each send to `transmit`, which the Simulation wires
to `Network.send`) and owns what happens to the *process*: up/down, crash epochs, GC-like pauses
and slow message handling. The dependency runs one way, network → host: the network holds the
hosts, checks their epoch on arrival and calls `receive`; a host never sees the network.

- Epoch: bumped on every crash. Timers and in-flight deliveries carry the epoch they were made
  in; anything from an older life is dropped, as a restarted process has no memory of it.
- Pause: nothing is processed; arriving messages and due timers queue in arrival order and are
  handled in one burst when the pause ends (a stop-the-world GC).
- Slow: each message is handled `slow_s` after it arrives (Lifeguard's overloaded node), FIFO.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from swimlab.protocol.messages import Message, NodeId
from swimlab.protocol.timers import Timer

from .clock import SimClock

if TYPE_CHECKING:
    from .kernel import Kernel

Transmit = Callable[["Host", NodeId, int, bytes | None, Message, bool], None]
"""Hand a send to the network: (source host, destination, encoded size, payload or None when
it was not built, decoded message, reliable)."""


class Host:
    __slots__ = (
        "backlog",
        "clock",
        "driver",
        "epoch",
        "kernel",
        "lives",
        "name",
        "needs_payload",
        "net_rng",
        "node",
        "paused",
        "slow_s",
        "transmit",
        "up",
    )

    def __init__(
        self,
        name: NodeId,
        kernel: Kernel,
        transmit: Transmit,
        net_rng: random.Random,
        offset_s: float = 0.0,
        drift_ppm: float = 0.0,
        track_timers: bool = False,
        needs_payload: bool = False,
    ) -> None:
        self.name = name
        # The network delivers decoded messages unless it fully decodes: then bytes are needed.
        self.needs_payload = needs_payload
        self.kernel = kernel
        self.transmit = transmit
        self.net_rng = net_rng  # the network's draws for packets this host sends
        self.epoch = 0
        self.up = False
        self.paused = False
        self.slow_s = 0.0
        self.lives = 0  # how many Node objects this host has run (wiped restarts make new ones)
        self.backlog: list[tuple[Any, ...]] = []
        self.clock = SimClock(kernel, self._fire_timer, self._epoch, offset_s, drift_ppm, track_timers)
        self.node: Any = None
        self.driver: Any = None

    def _epoch(self) -> int:
        return self.epoch

    # protocol.transport.Transport --------------------------------------------------------------
    def send(self, dst: NodeId, payload: bytes, message: Message, reliable: bool) -> None:
        self.transmit(self, dst, len(payload), payload, message, reliable)

    def send_sized(self, dst: NodeId, size: int, message: Message, reliable: bool) -> None:
        self.transmit(self, dst, size, None, message, reliable)

    # Inputs from the kernel -------------------------------------------------------------------
    def _fire_timer(
        self,
        epoch: int,
        generation: int,
        when: float,
        callback: Callable[[Timer], None],
        timer: Timer,
        key: int,
    ) -> None:
        if epoch != self.epoch or not self.up:
            return
        clock = self.clock
        if clock.track_timers:
            if generation != clock.generation:
                return  # re-armed on a new clock mapping; this arming is stale
            clock.pending.pop(key, None)
        if self.paused:
            self.backlog.append((True, when, callback, timer))
            return
        clock.reached(when)
        callback(timer)

    def receive(self, src: NodeId, message: Message, data: bytes | None) -> None:
        if self.paused:
            self.backlog.append((False, src, message, data))
        elif self.slow_s:
            self.kernel.call_at(
                self.kernel.now + self.slow_s, self._handle_late, self.epoch, src, message, data
            )
        else:
            self._handle(src, message, data)

    def _handle_late(self, epoch: int, src: NodeId, message: Message, data: bytes | None) -> None:
        if epoch != self.epoch or not self.up:
            return
        if self.paused:
            self.backlog.append((False, src, message, data))
        else:
            self._handle(src, message, data)

    def _handle(self, src: NodeId, message: Message, data: bytes | None) -> None:
        if data is None:
            self.driver.message_received(src, message)
        else:
            self.driver.datagram_received(src, data)

    # Process life -------------------------------------------------------------------------------
    def crash(self) -> None:
        self.up = False
        self.paused = False
        self.epoch += 1
        self.backlog.clear()
        self.clock.pending.clear()

    def pause(self) -> None:
        self.paused = True

    def resume_from_pause(self) -> None:
        """End a pause: handle everything that queued up, in arrival order, right now."""
        self.paused = False
        backlog, self.backlog = self.backlog, []
        epoch = self.epoch
        for index, (is_timer, a, b, c) in enumerate(backlog):
            if epoch != self.epoch or not self.up:
                return
            if self.paused:  # paused again while draining: the rest waits for that pause
                self.backlog[:0] = backlog[index:]
                return
            if is_timer:
                self.clock.reached(a)
                b(c)
            else:
                self._handle(a, b, c)
