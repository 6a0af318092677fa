"""The one adapter between a Node and a runtime: decode, feed, apply effects, re-arm timers.

Both runtimes use it unchanged (the simulator with its SimPy transport and clock, the live
runtime with an aioquic endpoint and the asyncio loop), which is what keeps "same protocol code
on both runtimes" true. It is as thin as aioquic's asyncio adapter: no protocol logic here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from .codec import MAX_MESSAGE_BYTES, decode, encode_trusted
from .config import Config
from .effects import Effects
from .errors import LocalProtocolError, RemoteProtocolError
from .events import Event
from .messages import RELIABLE, Message, NodeId, Update
from .timers import Timer
from .transport import Clock, SizedTransport, Transport


class Conductor(Protocol):
    """What a Driver drives: a `Node`, or a `ClusterManager` wrapping one (protocol/manager/)."""

    @property
    def name(self) -> NodeId: ...

    @property
    def config(self) -> Config: ...

    def start(self, now: float, known: Iterable[Update] = ()) -> Effects: ...

    def join(self, seeds: tuple[NodeId, ...], now: float) -> Effects: ...

    def leave(self, now: float) -> Effects: ...

    def recover(self, now: float) -> Effects: ...

    def handle_message(self, src: NodeId, message: Message, now: float) -> Effects: ...

    def handle_timer(self, timer: Timer, now: float) -> Effects: ...


@dataclass(slots=True)
class DriverStats:
    messages_sent: int = 0
    bytes_sent: int = 0
    messages_received: int = 0
    malformed_dropped: int = 0
    last_error: str = ""


class Driver:
    """Pumps one Node (or anything driven like one, `Conductor`) through a Transport and a Clock.

    `on_event` receives every notification (an `EventStream.publish`, a trace writer, ...).
    """

    def __init__(
        self,
        node: Conductor,
        transport: Transport,
        clock: Clock,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        self.node = node
        self.transport = transport
        self.clock = clock
        self.on_event = on_event
        self.stats = DriverStats()
        self.datagram_budget = node.config.packet_budget_bytes
        # A transport that hands the decoded message over and needs only its size (the
        # simulator, unless it fully decodes): a Send whose size the Node knows is not encoded.
        self._send_sized = (
            transport.send_sized
            if isinstance(transport, SizedTransport) and not transport.needs_payload
            else None
        )

    # Inputs -------------------------------------------------------------------------------
    def start(self, known: Iterable[Update] = ()) -> None:
        self.apply(self.node.start(self.clock.now(), known))

    def recover(self) -> None:
        """The process restarted after a crash with the node's state kept (see `Node.recover`)."""
        self.apply(self.node.recover(self.clock.now()))

    def join(self, seeds: Iterable[NodeId]) -> None:
        self.apply(self.node.join(tuple(seeds), self.clock.now()))

    def leave(self) -> None:
        self.apply(self.node.leave(self.clock.now()))

    def datagram_received(self, src: NodeId, data: bytes) -> None:
        """Bytes from the network. Anything undecodable is counted and dropped, never raised."""
        try:
            message = decode(data)
        except RemoteProtocolError as exc:
            self.stats.malformed_dropped += 1
            self.stats.last_error = str(exc)
            return
        self.message_received(src, message)

    def message_received(self, src: NodeId, message: Message) -> None:
        """An already-decoded message (the simulator's fast path skips the decode)."""
        self.stats.messages_received += 1
        self.apply(self.node.handle_message(src, message, self.clock.now()))

    def timer_fired(self, timer: Timer) -> None:
        self.apply(self.node.handle_timer(timer, self.clock.now()))

    # Outputs ------------------------------------------------------------------------------
    def apply(self, effects: Effects) -> None:
        stats = self.stats
        transport = self.transport
        send_sized = self._send_sized
        for send in effects.sends:
            message = send.message
            size = send.size
            if send_sized is not None and size >= 0:
                if size > MAX_MESSAGE_BYTES:  # what encode_trusted would refuse
                    raise LocalProtocolError(
                        f"cannot encode {type(message).__name__}: {size} bytes, over "
                        f"MAX_MESSAGE_BYTES ({MAX_MESSAGE_BYTES})"
                    )
                stats.messages_sent += 1
                stats.bytes_sent += size
                send_sized(send.dst, size, message, type(message) in RELIABLE or size > self.datagram_budget)
                continue
            payload = encode_trusted(message)  # our Node built it: see encode_trusted
            stats.messages_sent += 1
            stats.bytes_sent += len(payload)
            reliable = type(message) in RELIABLE or len(payload) > self.datagram_budget
            transport.send(send.dst, payload, message, reliable)
        call_at = self.clock.call_at
        for set_timer in effects.timers:
            call_at(set_timer.at, self.timer_fired, set_timer.timer)
        if self.on_event is not None:
            for event in effects.events:
                self.on_event(event)
