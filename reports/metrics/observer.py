"""The hooks an observer of the metrics may implement, and when each is called.

The accumulator (`accumulator.py`) reads each record once, updates the ground truth
(`truth.py`) and the views (`beliefs.py`), then calls the hooks of every observer that defines
them, in the order the observers are listed. Every hook sees the truth and the views as they are
*after* the record, except `on_verdict` and `on_state`, which come before the observer's view
changes (and the observers' own state from before the record, until they update it). An
observer keeps only its own counts and builds its own part of the result schema
(`swimlab.reports.schema`) when asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

from swimlab.protocol.trace_schema import (
    EndRecord,
    FaultRecord,
    GrudgeRecord,
    HostHow,
    ImpairRecord,
    StateRecord,
)


class Observer:
    def on_host_up(self, t: float, name: str, how: HostHow) -> None:
        """A process came up (boot, join, restart)."""

    def on_host_down(self, t: float, name: str, how: HostHow) -> None:
        """A process went down: crashed, or left (`how` says which)."""

    def on_impair(self, t: float, record: ImpairRecord) -> None:
        """A fault started or stopped affecting a node."""

    def on_grudge(self, t: float, record: GrudgeRecord) -> None:
        """A new partition is in force (no cuts: a heal); `truth.links` already has it."""

    def on_fault(self, t: float, record: FaultRecord) -> None:
        """The scenario applied a fault operation (recorded before its effects)."""

    def on_verdict(self, t: float, record: StateRecord) -> None:
        """A node heard or raised a `suspect` or `dead` verdict (its view is not updated yet)."""

    def on_state(self, t: float, record: StateRecord) -> None:
        """A node emitted any notification about another member (its view is not updated yet)."""

    def on_view_change(self, t: float, member: str, believes_up: bool) -> None:
        """An up node's view of `member` flipped."""

    def on_view_entry(self, t: float, observer: str, member: str, believes_up: bool) -> None:
        """Up node `observer`'s view of `member` flipped (after `on_view_change`)."""

    def on_events_dropped(self, t: float, node: str, count: int) -> None:
        """`node` lost `count` notifications to a slow consumer."""

    def on_end(self, record: EndRecord) -> None:
        """The runtime's counters, at the end of the run."""

    def on_sample(self, t: float) -> None:
        """A sampling instant (every `sample_every_s`), before any record at or after `t`."""

    @classmethod
    def implements(cls, hook: str) -> bool:
        return getattr(cls, hook) is not getattr(Observer, hook)


@dataclass(frozen=True)
class Hooks:
    """Per hook, the bound methods of the observers that implement it, in observer order."""

    on_host_up: list[Callable[[float, str, HostHow], None]]
    on_host_down: list[Callable[[float, str, HostHow], None]]
    on_impair: list[Callable[[float, ImpairRecord], None]]
    on_grudge: list[Callable[[float, GrudgeRecord], None]]
    on_fault: list[Callable[[float, FaultRecord], None]]
    on_verdict: list[Callable[[float, StateRecord], None]]
    on_state: list[Callable[[float, StateRecord], None]]
    on_view_change: list[Callable[[float, str, bool], None]]
    on_view_entry: list[Callable[[float, str, str, bool], None]]
    on_events_dropped: list[Callable[[float, str, int], None]]
    on_end: list[Callable[[EndRecord], None]]
    on_sample: list[Callable[[float], None]]

    @classmethod
    def of(cls, observers: Sequence[Observer]) -> Hooks:
        return cls(
            **{
                hook.name: [getattr(o, hook.name) for o in observers if o.implements(hook.name)]
                for hook in fields(cls)
            }
        )
