"""What the cluster managers gossip, and how one merges what it hears: lives, downs, observations.

This module owns the rules of `messages.ManagerGossip`'s tables:

- Lives: each manager draws a random `life` id when it starts and takes an `up_number` once it
  is up (0 for the initial members of a formed cluster, else one more than the highest it has
  heard of). A member's row is authored only by the member itself; a receiver keeps, per member,
  the row with the higher (up_number, life): a new life always outranks the old one it replaces.
  Rows about the receiver itself are never taken (it knows its own), only counted for the max.
- Downs: (member, life, by) rows accumulate, never retracted. A row about the receiver's own
  life, or with life 0 (the decider did not know it; safety first), downs the receiver. A row
  about another member downs it in the receiver's view unless it names a life older than the
  one the receiver knows (a stale down of a member that has since restarted).
- Observations: per observer, a version of its set of unreachable members (its application
  view's UNREACHABLE members). The receiver keeps the highest version per observer life; rows
  about the receiver are never taken. Gossip carries the observations of current members only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass, field

from ..messages import Downing, ManagerGossip, MemberLife, NodeId, Observation, Unreachability


@dataclass(slots=True)
class Merged:
    """What one gossip changed for the receiver."""

    new_lives: list[NodeId] = field(default_factory=list)  # members now known to run a newer life
    downed: list[Downing] = field(default_factory=list)  # downs about other members, new to us
    self_downed_by: NodeId | None = None  # a down about our own life: who decided it
    observations_changed: bool = False


class Tables:
    def __init__(self, owner: NodeId, life: int) -> None:
        self.owner = owner
        self.life = life
        self.up_number: int | None = None  # ours, once up
        self.lives: dict[NodeId, tuple[int, int]] = {}  # member -> (life, up_number)
        self.downs: dict[tuple[NodeId, int], Downing] = {}  # (member, life) -> the down
        self.versions: dict[NodeId, tuple[int, int]] = {}  # observer -> (life, version)
        self.observed: dict[NodeId, frozenset[NodeId]] = {}  # observer -> its unreachable set
        self.highest_up_number = -1  # the highest up_number heard of, any member, any life
        self.version = 0  # bumped by every change: what the gossip and the situation are built from
        self._cached: tuple[int, frozenset[NodeId], ManagerGossip] | None = None  # the last gossip built
        self._rows: dict[NodeId, tuple[Unreachability, ...]] = {}  # observer -> its rows, built once
        self._pairs: set[tuple[NodeId, NodeId]] = set()  # every (observer, subject) of `observed`
        self._records: frozenset[tuple[NodeId, NodeId]] | None = None  # records(), frozen once per change

    def life_of(self, member: NodeId) -> int:
        """The member's life as we know it; 0: not known."""
        if member == self.owner:
            return self.life
        return self.lives.get(member, (0, 0))[0]

    def up_numbers(self) -> dict[NodeId, int]:
        out = {m: up for m, (_, up) in self.lives.items()}
        if self.up_number is not None:
            out[self.owner] = self.up_number
        return out

    def take_up_number(self, up_number: int | None = None) -> int:
        """Become up: with `up_number`, or one more than the highest heard of."""
        self.version += 1
        self.up_number = self.highest_up_number + 1 if up_number is None else up_number
        self.highest_up_number = max(self.highest_up_number, self.up_number)
        return self.up_number

    def assume(self, members: Collection[NodeId], up_number: int) -> None:
        """Initial members of a formed cluster: their rank is known before their life is."""
        self.version += 1
        for member in members:
            if member != self.owner and member not in self.lives:
                self.lives[member] = (0, up_number)

    # Our own news -----------------------------------------------------------------------------
    def observe(self, unreachable: frozenset[NodeId]) -> bool:
        """Our own unreachable set now; True (and a new version) if it changed."""
        if self.observed.get(self.owner, frozenset()) == unreachable and self.owner in self.versions:
            return False
        self.version += 1
        _, version = self.versions.get(self.owner, (self.life, 0))
        self.versions[self.owner] = (self.life, version + 1)
        self._set_observed(self.owner, unreachable)
        return True

    def add_down(self, member: NodeId, by: NodeId) -> Downing:
        self.version += 1
        downing = Downing(member, self.life_of(member), by)
        self.downs.setdefault((member, downing.life), downing)
        return downing

    def members(self) -> list[NodeId]:
        """Members by the lives table: a known life, not downed (a graceful leave is a down by
        the member itself)."""
        return [
            m
            for m, (life, _) in sorted(self.lives.items())
            if life and (m, life) not in self.downs and (m, 0) not in self.downs
        ]

    def records(self) -> frozenset[tuple[NodeId, NodeId]]:
        if self._records is None:
            self._records = frozenset(self._pairs)
        return self._records

    def _set_observed(self, observer: NodeId, subjects: frozenset[NodeId] | None) -> bool:
        """`observer`'s unreachable set is now `subjects` (None: forgotten); True if it changed."""
        if self.observed.get(observer) == subjects:
            return False
        pairs = self._pairs
        for subject in self.observed.get(observer, ()):
            pairs.discard((observer, subject))
        if subjects is None:
            self.observed.pop(observer, None)
        else:
            self.observed[observer] = subjects
            pairs.update((observer, subject) for subject in subjects)
        self._rows.pop(observer, None)
        self._records = None
        return True

    def forget_observer(self, member: NodeId) -> None:
        """A member that is no longer one (downed, removed): its observations stop counting."""
        if member != self.owner and member in self.versions:
            self.version += 1
            self.versions.pop(member, None)
            self._set_observed(member, None)

    # Gossip -----------------------------------------------------------------------------------
    def gossip(self, members: Collection[NodeId], reply: bool) -> ManagerGossip:
        """Our tables for a peer: every life and down; the observations of `members` and ours.
        Built once per change of the tables (most ticks gossip the same state again)."""
        key = frozenset(members)
        if self._cached is None or self._cached[:2] != (self.version, key):
            self._cached = (self.version, key, self._build(key))
        message = self._cached[2]
        return message if message.reply == reply else dataclasses.replace(message, reply=reply)

    def _build(self, members: frozenset[NodeId]) -> ManagerGossip:
        lives = [MemberLife(m, life, up) for m, (life, up) in sorted(self.lives.items()) if life]
        if self.up_number is not None:
            lives.append(MemberLife(self.owner, self.life, self.up_number))
        observers = sorted(o for o in self.versions if o == self.owner or o in members)
        observations = tuple(Observation(o, *self.versions[o]) for o in observers)
        unreachable = tuple(row for o in observers for row in self._rows_of(o))
        return ManagerGossip(tuple(lives), tuple(self.downs.values()), observations, unreachable)

    def _rows_of(self, observer: NodeId) -> tuple[Unreachability, ...]:
        rows = self._rows.get(observer)
        if rows is None:
            subjects = sorted(self.observed.get(observer, ()))
            rows = self._rows[observer] = tuple(Unreachability(observer, s) for s in subjects)
        return rows

    def merge(self, gossip: ManagerGossip) -> Merged:
        before = (len(self.lives), len(self.downs), self.highest_up_number)
        out = Merged()
        for row in gossip.members:
            self.highest_up_number = max(self.highest_up_number, row.up_number)
            if row.member == self.owner or row.life == 0:
                continue
            held = self.lives.get(row.member)
            if held is None or (row.up_number, row.life) > (held[1], held[0]):
                self.version += 1
                if held is not None and held[0] not in (0, row.life):
                    out.new_lives.append(row.member)
                    self.forget_observer(row.member)
                self.lives[row.member] = (row.life, row.up_number)
        for downing in gossip.downs:
            key = (downing.member, downing.life)
            if key in self.downs:
                continue
            self.downs[key] = downing  # kept and passed on even if it is not about a life we know
            if downing.member == self.owner:
                if downing.life in (0, self.life):
                    out.self_downed_by = out.self_downed_by or downing.by
                continue
            known = self.life_of(downing.member)
            if downing.life in (0, known) or known == 0:
                out.downed.append(downing)
        newer = []
        for obs in gossip.observations:
            if obs.observer == self.owner:
                continue
            known = self.life_of(obs.observer)
            if known and obs.life != known:
                continue
            held_life, held_version = self.versions.get(obs.observer, (0, -1))
            if held_life != obs.life or obs.version > held_version:
                newer.append(obs)
        if newer:  # most gossip repeats what we hold: read its unreachable rows only when not
            subjects: dict[NodeId, set[NodeId]] = {}
            for u in gossip.unreachable:
                subjects.setdefault(u.observer, set()).add(u.subject)
            for obs in newer:
                self.versions[obs.observer] = (obs.life, obs.version)
                self.version += 1
                if self._set_observed(obs.observer, frozenset(subjects.get(obs.observer, ()))):
                    out.observations_changed = True
        if out.new_lives or (len(self.lives), len(self.downs), self.highest_up_number) != before:
            self.version += 1
        return out
