"""The two interfaces a runtime implements for the Driver: a Transport and a Clock.

They are deliberately narrow (memberlist's `Transport`, trio's fake net): the simulator and the
QUIC endpoint each implement both, and one conformance suite checks them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from .messages import Message, NodeId
from .timers import Timer


class Transport(Protocol):
    def send(self, dst: NodeId, payload: bytes, message: Message, reliable: bool) -> None:
        """Send encoded `payload` to `dst`; never blocks, never raises for an unreachable peer.

        `message` is the decoded form of `payload`, for transports that may hand it to the
        receiver directly (the simulator); others ignore it. `reliable` asks for a stream
        rather than a datagram (full-state sync, anything over the datagram budget).
        """
        ...


@runtime_checkable
class SizedTransport(Transport, Protocol):
    """A transport that may take a message without its bytes (the simulator hands the decoded
    message over and needs only the size). The Driver uses `send_sized` when `needs_payload` is
    false and the Node already knows the size (a PushPull); everything else goes through `send`."""

    @property
    def needs_payload(self) -> bool: ...

    def send_sized(self, dst: NodeId, size: int, message: Message, reliable: bool) -> None:
        """As `send`, for a message of `size` encoded bytes that were not built."""
        ...


class Clock(Protocol):
    def now(self) -> float:
        """The node's local monotonic time in seconds."""
        ...

    def call_at(self, when: float, callback: Callable[[Timer], None], timer: Timer) -> None:
        """Call `callback(timer)` once the local clock reaches `when` (at once if already past)."""
        ...
