"""A bounded buffer of membership events between the protocol and a consumer that may be slow.

This module owns the overflow policy: `publish` never blocks and never raises, because the
protocol must not stall on its audience; when the buffer is full the OLDEST event is dropped
(the newest news is the most useful) and the loss is counted. The consumer learns of it as an
`EventsDropped(n)` delivered exactly where the lost events would have been, so every published
event is either delivered in order or accounted for, and the counts add up.
"""

from __future__ import annotations

from collections import deque

from .errors import ConfigError
from .events import Event, EventsDropped


class EventStream:
    """Events in publish order, at most `capacity` buffered, losses reported in place.

    Inputs: `publish` (the node's events, e.g. as a Driver's `on_event`); outputs: `poll` and
    `drain` (the consumer). Memory is bounded by `capacity` events plus one counter.
    """

    __slots__ = ("_buffer", "_capacity", "_dropped_total", "_unreported")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ConfigError(f"argument 'capacity': expected >= 1, got {capacity!r}")
        self._capacity = capacity
        self._buffer: deque[Event] = deque(maxlen=capacity)
        self._unreported = 0  # dropped since the consumer last saw an EventsDropped
        self._dropped_total = 0

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def dropped_total(self) -> int:
        """Events lost to overflow since this stream was created (reported or not yet)."""
        return self._dropped_total

    def __len__(self) -> int:
        """How many items `drain` would return now: the buffered events plus a pending notice."""
        return len(self._buffer) + (1 if self._unreported else 0)

    def publish(self, event: Event) -> None:
        """Append `event`; if the buffer is full, drop the oldest buffered event and count it."""
        if len(self._buffer) == self._capacity:
            # Every dropped event is older than everything still buffered and newer than
            # everything already delivered, so one notice in front of the buffer is exact.
            self._unreported += 1
            self._dropped_total += 1
        self._buffer.append(event)  # the deque's maxlen evicts the oldest

    def poll(self) -> Event | None:
        """The next event, `EventsDropped(n)` first if `n` events were lost since; None if empty."""
        if self._unreported:
            notice = EventsDropped(self._unreported)
            self._unreported = 0
            return notice
        return self._buffer.popleft() if self._buffer else None

    def drain(self) -> list[Event]:
        """Everything `poll` would return until None, in order."""
        out: list[Event] = []
        if self._unreported:
            out.append(EventsDropped(self._unreported))
            self._unreported = 0
        out.extend(self._buffer)
        self._buffer.clear()
        return out
