"""One node's member table: what it last accepted about each member, and the indexes kept in step.

This module owns the view (member → the `Update` last accepted about it, the node itself
included) and three indexes that must always agree with it:

- the live set: alive and suspect members other than the owner, as a list plus a position
  index, for O(1) random choice;
- the probe order: SWIM §4.3's round-robin over a shuffled list, reshuffled after each full
  pass. A new member goes where memberlist's `aliveNode` puts it: appended, then swapped with
  the entry at a uniformly random offset of the whole list, so it may land behind the probe
  pointer (probed only in the next pass) and the entry it displaces moves to the end;
- the down members (dead or left) in order of death, with the instant each went down: the
  reconnect and reclaim timers and gossip-to-the-dead read it;
- the listed down members: those memberlist would still hold in its node list. memberlist
  drops a dead or left member from that list only at the end of a probe pass (`resetNodes`)
  once it has been down longer than `GossipToTheDeadTime`; until then `estNumNodes()` counts
  it. `cluster_size` is that count (live + listed down + the owner), the `n` of every formula:
  retransmit limit, suspicion timeout and confirmations, push-pull scale. (Our own tombstones,
  kept `dead_reclaim_s` for Serf's reconnect, are not counted: memberlist has none.)
- `wire_bytes`, the sum of the records' encoded sizes (`codec.update_size`), so a PushPull's
  size is known without encoding it.

A formed cluster's tables start from one shared `Roster` (the same alive records for every
member, checked and sized once): such a table points at the roster instead of copying it, O(1)
per node, until its first change, when it takes its own copy (in C). Reads are the same either
way; the record order a snapshot gives is the one a copied table would have (the owner first).

It does not judge news (precedence.py does), nor set timers or emit notifications (the Node
does): `install` only keeps the indexes in step with the record it is given. Random draws come
from the owner's `random.Random`, in the same order as the Node's other draws.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from operator import attrgetter
from types import MappingProxyType
from typing import Final, overload

from .codec import update_size
from .errors import LocalProtocolError
from .messages import MemberState, NodeId, Update

ALIVE, SUSPECT = MemberState.ALIVE, MemberState.SUSPECT
_MEMBER_OF: Final = attrgetter("member")


def shuffle(rng: random.Random, items: list[NodeId]) -> None:
    """`rng.shuffle(items)`: the same draws and the same result, about 2.5x faster.

    CPython's shuffle calls `_randbelow(i + 1)` per element (a Python call each); this inlines
    it (`_randbelow_with_getrandbits`: k = n.bit_length() bits, redrawn while >= n), with k
    hoisted per power of two. A formed cluster of N shuffles N probe orders of N at start.
    tests/test_members.py compares it with `rng.shuffle` over many sizes and seeds.
    """
    if type(rng)._randbelow is not random.Random._randbelow_with_getrandbits:  # type: ignore[attr-defined]
        rng.shuffle(items)  # another generator: its own shuffle
        return
    getrandbits = rng.getrandbits
    top = len(items) - 1
    while top >= 1:
        k = (top + 1).bit_length()
        low = 1 << (k - 1)  # every n = i + 1 in [low, 2 * low) draws k bits
        for i in range(top, low - 2, -1):
            n = i + 1
            j = getrandbits(k)
            while j >= n:
                j = getrandbits(k)
            items[i], items[j] = items[j], items[i]
        top = low - 2


class Roster:
    """The alive records a formed cluster starts with, shared by every member's table.

    Checked once (alive, each member once) and sized once, instead of once per node.
    """

    __slots__ = ("by_name", "index", "names", "positions", "records", "wire_bytes")

    def __init__(self, records: Iterable[Update]) -> None:
        self.records: tuple[Update, ...] = tuple(records)
        for record in self.records:
            if type(record) is not Update or record.state is not ALIVE:
                raise LocalProtocolError(f"a roster takes alive Update records, got {record!r}")
        self.names: tuple[NodeId, ...] = tuple(map(_MEMBER_OF, self.records))
        self.by_name: dict[NodeId, Update] = dict(zip(self.names, self.records, strict=True))
        if len(self.by_name) != len(self.names):
            raise LocalProtocolError("a roster names each member once; this one repeats a member")
        # One int object per position, shared by every table's copied live index.
        self.positions: tuple[int, ...] = tuple(range(len(self.names)))
        self.index: dict[NodeId, int] = dict(zip(self.names, self.positions, strict=True))
        self.wire_bytes = sum(map(update_size, self.records))

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Update]:
        return iter(self.records)


class _LiveOfRoster(Sequence[NodeId]):
    """The live list of a table still on its roster: the roster's names without the owner."""

    __slots__ = ("names", "pos")

    def __init__(self, names: tuple[NodeId, ...], pos: int) -> None:
        self.names = names
        self.pos = pos

    def __len__(self) -> int:
        return len(self.names) - 1

    @overload
    def __getitem__(self, i: int) -> NodeId: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[NodeId]: ...
    def __getitem__(self, i: int | slice) -> NodeId | Sequence[NodeId]:
        if isinstance(i, slice):
            return list(self)[i]
        if not 0 <= i < len(self.names) - 1:
            raise IndexError(i)
        return self.names[i + 1 if i >= self.pos else i]

    def __iter__(self) -> Iterator[NodeId]:
        names, pos = self.names, self.pos
        yield from names[:pos]
        yield from names[pos + 1 :]


class MemberTable:
    """The view of one node plus its live set, probe order and down list (see the module)."""

    __slots__ = (
        "_own_pos",
        "_roster",
        "down_since",
        "keep_listed_s",
        "listed_down",
        "live",
        "live_index",
        "owner",
        "probe_order",
        "probe_pos",
        "records",
        "rng",
        "wire_bytes",
    )

    def __init__(self, owner: NodeId, rng: random.Random, keep_listed_s: float = 30.0) -> None:
        """`keep_listed_s`: memberlist's `GossipToTheDeadTime` (see `listed_down`)."""
        self.owner = owner
        self.rng = rng
        self.keep_listed_s = keep_listed_s
        own = Update(ALIVE, owner, 0, owner)
        # `records` and `live_index` are read directly (dict speed); while the table is on a
        # roster they are the roster's own dicts and must not be written: `_copy_roster` first.
        self.records: dict[NodeId, Update] = {owner: own}
        self.wire_bytes = update_size(own)
        self.live: list[NodeId] | _LiveOfRoster = []
        self.live_index: dict[NodeId, int] = {}  # on a roster: also holds the owner (see is_live)
        self.probe_order: list[NodeId] = []
        self.probe_pos = 0
        self.down_since: dict[NodeId, float] = {}  # dead or left members, in order of death
        self.listed_down: set[NodeId] = set()  # down, still in memberlist's node list (counted)
        self._roster: Roster | None = None
        self._own_pos = -1

    def view(self) -> Mapping[NodeId, Update]:
        self._copy_roster()  # a view iterates in the table's own order (the owner first)
        return MappingProxyType(self.records)

    def snapshot(self) -> tuple[Update, ...]:
        """Every record, in the table's order (the owner first, then in order of arrival)."""
        roster = self._roster
        if roster is None:
            return tuple(self.records.values())
        records, pos = roster.records, self._own_pos
        return (records[pos], *records[:pos], *records[pos + 1 :])

    def cluster_size(self) -> int:
        """memberlist's `estNumNodes()`: live and listed down members, the owner included."""
        return len(self.live) + len(self.listed_down) + 1

    def is_live(self, member: NodeId) -> bool:
        """Alive or suspect, and not the owner."""
        return member in self.live_index and member != self.owner

    # Changes --------------------------------------------------------------------------------
    def install_roster(self, roster: Roster) -> None:
        """Start a fresh table from a formed cluster's roster: as `install_alive` of the roster's
        records other than the owner's, but shared rather than copied (see the module)."""
        pos = roster.index.get(self.owner)
        own = self.records[self.owner]
        if len(self.records) != 1 or pos is None or roster.records[pos] != own:
            # Not fresh, or the roster lacks us or holds us otherwise than we hold ourselves.
            self.install_alive(r for r in roster.records if r.member != self.owner)
            return
        self._roster, self._own_pos = roster, pos
        # The roster's record of us equals ours; sharing it keeps the table a pure pointer.
        self.records = roster.by_name
        self.live_index = roster.index
        self.live = _LiveOfRoster(roster.names, pos)
        self.wire_bytes = roster.wire_bytes
        order = list(roster.names)
        del order[pos]
        shuffle(self.rng, order)
        self.probe_order = order

    def _copy_roster(self) -> None:
        """Leave the shared roster for a table of our own, in the order a copy-filled table has."""
        roster = self._roster
        if roster is None:
            return
        pos, names, records = self._own_pos, roster.names, roster.records
        own: dict[NodeId, Update] = {self.owner: records[pos]}
        own.update(zip(names[:pos], records[:pos], strict=True))
        own.update(zip(names[pos + 1 :], records[pos + 1 :], strict=True))
        live = list(names)
        del live[pos]
        self.records = own
        self.live = live
        self.live_index = dict(zip(live, roster.positions[: len(live)], strict=True))
        self._roster = None

    def install_alive(self, members: Iterable[Update]) -> None:
        """Pre-fill with alive records (shared, not copied); the probe order is one shuffle."""
        self._copy_roster()
        live, live_index, records = self.live, self.live_index, self.records
        assert type(live) is list
        for update in members:
            held = records.get(update.member)
            if held is not None:
                self.wire_bytes -= update_size(held)
            if update.member not in live_index:
                live_index[update.member] = len(live)
                live.append(update.member)
            records[update.member] = update
            self.wire_bytes += update_size(update)
        self.probe_order = list(live)
        shuffle(self.rng, self.probe_order)

    def install(self, held: Update | None, news: Update, now: float) -> None:
        """Make `news` the record of its member (it replaces `held`) and keep every index in step."""
        self._copy_roster()
        member, state = news.member, news.state
        self.records[member] = news
        self.wire_bytes += update_size(news) - (0 if held is None else update_size(held))
        was_live = held is not None and (held.state is ALIVE or held.state is SUSPECT)
        is_live = state is ALIVE or state is SUSPECT
        if is_live and not was_live:
            # A member back while still listed keeps its place in the probe order, as in
            # memberlist (the `in` scan is paid only by such returns, which are rare).
            listed = member in self.listed_down
            self.listed_down.discard(member)
            self._add_live(member, place=not (listed and member in self.probe_order))
            self.down_since.pop(member, None)
        elif was_live and not is_live:
            self._remove_live(member)
            self.listed_down.add(member)
        if news.is_down:
            self.down_since.pop(member, None)  # re-insert so the dict stays in order of death
            self.down_since[member] = now

    def set_own(self, record: Update) -> None:
        """Replace the owner's own record (it is never in the live set)."""
        self._copy_roster()
        self.wire_bytes += update_size(record) - update_size(self.records[record.member])
        self.records[record.member] = record

    def forget(self, member: NodeId) -> None:
        """Drop a down member entirely (reclaimed after `dead_reclaim_s`)."""
        self._copy_roster()
        self.wire_bytes -= update_size(self.records.pop(member))
        del self.down_since[member]
        self.listed_down.discard(member)

    def _add_live(self, member: NodeId, place: bool = True) -> None:
        assert type(self.live) is list  # install copied the roster
        self.live_index[member] = len(self.live)
        self.live.append(member)
        if place:
            # memberlist aliveNode: append, then swap with a random offset of the whole list
            # (randomOffset(n) is uniform in [0, n), 0 for an empty list).
            order = self.probe_order
            n = len(order)
            order.append(member)
            if n:
                offset = self.rng.randrange(n)
                order[offset], order[n] = order[n], order[offset]

    def _remove_live(self, member: NodeId) -> None:
        assert type(self.live) is list  # install copied the roster
        index = self.live_index.pop(member)
        last = self.live.pop()
        if last != member:
            self.live[index] = last
            self.live_index[last] = index

    # Choices --------------------------------------------------------------------------------
    def next_probe_target(self, now: float) -> NodeId | None:
        """Round-robin over a shuffled order, reshuffled after each full pass (SWIM §4.3).

        At the end of a pass, down members gone longer than `keep_listed_s` leave the listed
        set (memberlist's `resetNodes`), so they stop counting in `cluster_size`.
        """
        for _ in range(2):
            order = self.probe_order
            while self.probe_pos < len(order):
                member = order[self.probe_pos]
                self.probe_pos += 1
                if member in self.live_index:  # the owner is never in the probe order
                    return member
            self._trim_listed(now)
            order = list(self.live)
            shuffle(self.rng, order)
            self.probe_order = order
            self.probe_pos = 0
        return None

    def _trim_listed(self, now: float) -> None:
        if self.listed_down:
            horizon = now - self.keep_listed_s
            since = self.down_since
            self.listed_down = {m for m in self.listed_down if since[m] >= horizon}

    def probe_again(self, member: NodeId) -> None:
        """Put `member` next in the probe order (phi judged one failed probe too little)."""
        self.probe_order.insert(self.probe_pos, member)

    def dead(self) -> list[NodeId]:
        """Members held dead (not left), in order of death."""
        records = self.records
        return [m for m in self.down_since if records[m].state is MemberState.DEAD]

    def random_members(
        self, k: int, exclude: NodeId | None = None, recently_dead_since: float | None = None
    ) -> list[NodeId]:
        """Up to `k` distinct random live members; with `recently_dead_since`, also those down since then."""
        live = self.live
        recent: list[NodeId] = []
        if recently_dead_since is not None and self.down_since:
            for member, since in reversed(self.down_since.items()):  # newest death first
                if since < recently_dead_since:
                    break
                recent.append(member)
        n_live = len(live)
        n = n_live + len(recent)
        excluded = 1 if exclude is not None and self.is_live(exclude) else 0
        if n - excluded <= k:
            return [m for m in (*live, *recent) if m != exclude]
        chosen: list[NodeId] = []
        seen: set[int] = set()
        randrange = self.rng.randrange
        while len(chosen) < k:
            i = randrange(n)
            if i in seen:
                continue
            seen.add(i)
            member = live[i] if i < n_live else recent[i - n_live]
            if member != exclude:
                chosen.append(member)
        return chosen
