"""The application view: which members an application acts with, settled so flapping does not show.

This module owns the rules that turn SWIM's beliefs into the statuses of `events.MemberStatus`:

- SWIM's reachability of a member, from the Node's notifications: joined / alive -> reachable;
  dead -> unreachable; suspect -> unreachable when `unreachable_on` is "suspect" (else it
  changes nothing); left / removed -> gone. `updated` changes nothing.
- A member's status follows its SWIM reachability only once that has held for `settle_s`
  without a change (a flapping member keeps its status): not-a-member -> UP (a new member must
  be reachable), UP -> UNREACHABLE, UNREACHABLE -> UP.
- A member known only from the gossiped lives table (some manager has it as a member, SWIM
  here has not heard of it) is *introduced*: the manager asks SWIM to sync with it (a join
  towards it), and unless SWIM hears of it within `settle_s` it becomes UNREACHABLE. A node
  that joined one side of a partition must count the members it cannot see, or it would take
  its side for the whole; one that merely heard of a new member before SWIM did must not.
- Gone is immediate: a member that left or was forgotten becomes REMOVED at once (a graceful
  leave is not a failure to debounce).
- DOWN (a downing decision, ours or gossiped) is sticky: SWIM's beliefs no longer change it,
  until the member is known to run a new life (`new_life`, from the gossiped lives table); then
  it may come back UP through the settle rule like any new member. DOWN becomes REMOVED after
  the removal margin (`remove_downed`).
- The view never holds its owner: the owner's own state is whether it serves (manager.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..events import (
    Event,
    MemberAlive,
    MemberFailed,
    MemberJoined,
    MemberLeft,
    MemberRemoved,
    MemberSuspected,
)
from ..messages import NodeId
from .config import UnreachableOn
from .events import MemberStatus, MemberStatusChanged

UP, UNREACHABLE, DOWN, REMOVED = (
    MemberStatus.UP,
    MemberStatus.UNREACHABLE,
    MemberStatus.DOWN,
    MemberStatus.REMOVED,
)


@dataclass(slots=True)
class _Member:
    status: MemberStatus | None = None  # None: not a member (yet)
    reachable: bool | None = None  # SWIM's belief; None: gone (left or forgotten)
    reachable_since: float = 0.0  # when SWIM's belief last changed (local time)
    status_since: float = 0.0
    sticky: bool = False  # downed in the life we know: SWIM's beliefs do not lift it
    introduced: bool = False  # known from the lives table before SWIM heard of it


class ApplicationView:
    def __init__(self, owner: NodeId, settle_s: float, unreachable_on: UnreachableOn) -> None:
        self.owner = owner
        self.settle_s = settle_s
        self.unreachable_on = unreachable_on
        self._members: dict[NodeId, _Member] = {}
        self._pending: set[NodeId] = set()  # SWIM's belief differs from the status

    # Reading ----------------------------------------------------------------------------------
    def status(self, member: NodeId) -> MemberStatus | None:
        m = self._members.get(member)
        return None if m is None else m.status

    def statuses(self) -> dict[NodeId, MemberStatus]:
        return {name: m.status for name, m in self._members.items() if m.status is not None}

    def members(self) -> frozenset[NodeId]:
        """UP and UNREACHABLE members (the owner not included)."""
        return frozenset(n for n, m in self._members.items() if m.status is UP or m.status is UNREACHABLE)

    def unreachable(self) -> frozenset[NodeId]:
        return frozenset(n for n, m in self._members.items() if m.status is UNREACHABLE)

    def with_status(self, *statuses: MemberStatus) -> list[NodeId]:
        return [n for n, m in self._members.items() if m.status in statuses]

    # SWIM's beliefs ---------------------------------------------------------------------------
    def install(self, members: Iterable[NodeId], now: float) -> list[MemberStatusChanged]:
        """Members known alive from the start (a formed cluster): UP at once, no settling."""
        changes = []
        for name in members:
            if name != self.owner:
                m = self._members[name] = _Member()
                m.reachable, m.reachable_since = True, now
                changes.append(self._set(name, m, UP, now))
        return changes

    def introduce(self, name: NodeId, now: float) -> bool:
        """`name` is a member by the lives table; True if SWIM has not heard of it (the caller
        then asks SWIM to sync with it): UNREACHABLE after `settle_s` unless SWIM hears of it."""
        if name == self.owner:
            return False
        m = self._members.get(name)
        if m is None:
            m = self._members[name] = _Member()
        if m.status is not None or m.sticky or m.reachable is not None or m.introduced:
            return False
        m.introduced = True
        m.reachable, m.reachable_since = False, now
        self._pending.add(name)
        return True

    def swim_event(self, event: Event, now: float) -> list[MemberStatusChanged]:
        """Take in one Node notification; a REMOVED change if the member is gone."""
        if isinstance(event, MemberJoined | MemberAlive):
            self._believe(event.member, True, now)
        elif isinstance(event, MemberFailed):
            self._believe(event.member, False, now)
        elif isinstance(event, MemberSuspected):
            if self.unreachable_on == "suspect":
                self._believe(event.member, False, now)
        elif isinstance(event, MemberLeft | MemberRemoved):
            return self._gone(event.member, now)
        return []

    def _believe(self, name: NodeId, reachable: bool, now: float) -> None:
        if name == self.owner:
            return
        m = self._members.get(name)
        if m is None:
            m = self._members[name] = _Member()
        if m.reachable is not reachable:
            m.reachable = reachable
            m.reachable_since = now
            self._pending.add(name)

    def _gone(self, name: NodeId, now: float) -> list[MemberStatusChanged]:
        m = self._members.get(name)
        if m is None or name == self.owner:
            return []
        m.reachable = None
        m.reachable_since = now
        self._pending.discard(name)
        if m.status is None or m.status is REMOVED:
            return []
        return [self._set(name, m, REMOVED, now)]

    def settle(self, now: float) -> list[MemberStatusChanged]:
        """Statuses whose SWIM belief has held for `settle_s` follow it (see the module rules)."""
        changes: list[MemberStatusChanged] = []
        for name in sorted(self._pending):
            m = self._members[name]
            if now - m.reachable_since < self.settle_s:
                continue
            self._pending.discard(name)
            if m.sticky or m.reachable is None:
                continue
            if m.reachable:
                if m.status is not UP:
                    changes.append(self._set(name, m, UP, now))
            elif m.status is UP or (m.status is None and m.introduced):
                changes.append(self._set(name, m, UNREACHABLE, now))
        return changes

    # Decisions --------------------------------------------------------------------------------
    def down(self, name: NodeId, now: float) -> MemberStatusChanged | None:
        """`name` was downed (in the life we know): DOWN, and it stays so."""
        if name == self.owner:
            return None
        m = self._members.get(name)
        if m is None:
            m = self._members[name] = _Member()
        m.sticky = True
        if m.status is DOWN or m.status is REMOVED:
            return None
        return self._set(name, m, DOWN, now)

    def new_life(self, name: NodeId, now: float) -> None:
        """`name` runs a life we have not downed: it may become a member again."""
        m = self._members.get(name)
        if m is not None and m.sticky:
            m.sticky = False
            if m.reachable:
                m.reachable_since = now
                self._pending.add(name)

    def remove_downed(self, now: float, margin_s: float) -> list[MemberStatusChanged]:
        return [
            self._set(name, m, REMOVED, now)
            for name, m in sorted(self._members.items())
            if m.status is DOWN and now - m.status_since >= margin_s
        ]

    def _set(self, name: NodeId, m: _Member, status: MemberStatus, now: float) -> MemberStatusChanged:
        m.status = status
        m.status_since = now
        return MemberStatusChanged(name, status)
