"""What a Node asks its runtime to do after one input: send, set timers, notify.

`Effects` is immutable; a node test is one equality assertion on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .events import Event
from .messages import Message, NodeId
from .timers import Timer


@dataclass(frozen=True, slots=True)
class Send:
    """Send `message` to `dst`. `size` is its encoded size when the Node already knows it (a
    PushPull: its table keeps the sum of its records' sizes), else -1; a runtime that needs only
    the size (the simulator) then skips building the bytes. Not part of equality."""

    dst: NodeId
    message: Message
    size: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class SetTimer:
    """Fire `timer` at local time `at` (seconds on the node's own clock)."""

    at: float
    timer: Timer


@dataclass(frozen=True, slots=True)
class Effects:
    sends: tuple[Send, ...] = ()
    timers: tuple[SetTimer, ...] = ()
    events: tuple[Event, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sends or self.timers or self.events)


NO_EFFECTS = Effects()
