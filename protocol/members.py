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

It does not judge news (precedence.py does), nor set timers or emit notifications (the Node
does): `install` only keeps the indexes in step with the record it is given. Random draws come
from the owner's `random.Random`, in the same order as the Node's other draws.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from .messages import MemberState, NodeId, Update

ALIVE, SUSPECT = MemberState.ALIVE, MemberState.SUSPECT


class MemberTable:
    """The view of one node plus its live set, probe order and down list (see the module)."""

    __slots__ = (
        "down_since",
        "keep_listed_s",
        "listed_down",
        "live",
        "live_index",
        "probe_order",
        "probe_pos",
        "records",
        "rng",
    )

    def __init__(self, owner: NodeId, rng: random.Random, keep_listed_s: float = 30.0) -> None:
        """`keep_listed_s`: memberlist's `GossipToTheDeadTime` (see `listed_down`)."""
        self.rng = rng
        self.keep_listed_s = keep_listed_s
        self.records: dict[NodeId, Update] = {owner: Update(ALIVE, owner, 0, owner)}
        self.live: list[NodeId] = []
        self.live_index: dict[NodeId, int] = {}
        self.probe_order: list[NodeId] = []
        self.probe_pos = 0
        self.down_since: dict[NodeId, float] = {}  # dead or left members, in order of death
        self.listed_down: set[NodeId] = set()  # down, still in memberlist's node list (counted)

    def view(self) -> Mapping[NodeId, Update]:
        return MappingProxyType(self.records)

    def cluster_size(self) -> int:
        """memberlist's `estNumNodes()`: live and listed down members, the owner included."""
        return len(self.live) + len(self.listed_down) + 1

    # Changes --------------------------------------------------------------------------------
    def install_alive(self, members: Iterable[Update]) -> None:
        """Pre-fill with alive records (shared, not copied); the probe order is one shuffle."""
        live, live_index, records = self.live, self.live_index, self.records
        for update in members:
            if update.member not in live_index:
                live_index[update.member] = len(live)
                live.append(update.member)
            records[update.member] = update
        self.probe_order = list(live)
        self.rng.shuffle(self.probe_order)

    def install(self, held: Update | None, news: Update, now: float) -> None:
        """Make `news` the record of its member (it replaces `held`) and keep every index in step."""
        member, state = news.member, news.state
        self.records[member] = news
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
        self.records[record.member] = record

    def forget(self, member: NodeId) -> None:
        """Drop a down member entirely (reclaimed after `dead_reclaim_s`)."""
        del self.records[member]
        del self.down_since[member]
        self.listed_down.discard(member)

    def _add_live(self, member: NodeId, place: bool = True) -> None:
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
                if member in self.live_index:
                    return member
            self._trim_listed(now)
            order = list(self.live)
            self.rng.shuffle(order)
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
        excluded = 1 if exclude is not None and exclude in self.live_index else 0
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
