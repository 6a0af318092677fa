"""One node's member table: what it last accepted about each member, and the indexes kept in step.

This module owns the view (member → the `Update` last accepted about it, the node itself
included) and three indexes that must always agree with it:

- the live set: alive and suspect members other than the owner, as a list plus a position
  index, for O(1) random choice and counting (`cluster_size` is the `n` of every formula);
- the probe order: SWIM §4.3's round-robin over a shuffled list, reshuffled after each full
  pass, a new member inserted at a random place still ahead in the current pass;
- the down members (dead or left) in order of death, with the instant each went down: the
  reconnect and reclaim timers and gossip-to-the-dead read it;
- `wire_bytes`, the sum of the records' encoded sizes (`codec.update_size`), so a PushPull's
  size is known without encoding it.

It does not judge news (precedence.py does), nor set timers or emit notifications (the Node
does): `install` only keeps the indexes in step with the record it is given. Random draws come
from the owner's `random.Random`, in the same order as the Node's other draws.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from .codec import update_size
from .messages import MemberState, NodeId, Update

ALIVE, SUSPECT = MemberState.ALIVE, MemberState.SUSPECT


class MemberTable:
    """The view of one node plus its live set, probe order and down list (see the module)."""

    __slots__ = (
        "down_since",
        "live",
        "live_index",
        "probe_order",
        "probe_pos",
        "records",
        "rng",
        "wire_bytes",
    )

    def __init__(self, owner: NodeId, rng: random.Random) -> None:
        self.rng = rng
        own = Update(ALIVE, owner, 0, owner)
        self.records: dict[NodeId, Update] = {owner: own}
        self.wire_bytes = update_size(own)
        self.live: list[NodeId] = []
        self.live_index: dict[NodeId, int] = {}
        self.probe_order: list[NodeId] = []
        self.probe_pos = 0
        self.down_since: dict[NodeId, float] = {}  # dead or left members, in order of death

    def view(self) -> Mapping[NodeId, Update]:
        return MappingProxyType(self.records)

    def cluster_size(self) -> int:
        """Alive and suspect members, the owner included."""
        return len(self.live) + 1

    # Changes --------------------------------------------------------------------------------
    def install_alive(self, members: Iterable[Update]) -> None:
        """Pre-fill with alive records (shared, not copied); the probe order is one shuffle."""
        live, live_index, records = self.live, self.live_index, self.records
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
        self.rng.shuffle(self.probe_order)

    def install(self, held: Update | None, news: Update, now: float) -> None:
        """Make `news` the record of its member (it replaces `held`) and keep every index in step."""
        member, state = news.member, news.state
        self.records[member] = news
        self.wire_bytes += update_size(news) - (0 if held is None else update_size(held))
        was_live = held is not None and (held.state is ALIVE or held.state is SUSPECT)
        is_live = state is ALIVE or state is SUSPECT
        if is_live and not was_live:
            self._add_live(member)
            self.down_since.pop(member, None)
        elif was_live and not is_live:
            self._remove_live(member)
        if news.is_down:
            self.down_since.pop(member, None)  # re-insert so the dict stays in order of death
            self.down_since[member] = now

    def set_own(self, record: Update) -> None:
        """Replace the owner's own record (it is never in the live set)."""
        self.wire_bytes += update_size(record) - update_size(self.records[record.member])
        self.records[record.member] = record

    def forget(self, member: NodeId) -> None:
        """Drop a down member entirely (reclaimed after `dead_reclaim_s`)."""
        self.wire_bytes -= update_size(self.records.pop(member))
        del self.down_since[member]

    def _add_live(self, member: NodeId) -> None:
        self.live_index[member] = len(self.live)
        self.live.append(member)
        # SWIM §4.3: a new member goes to a random place in the probe order.
        self.probe_order.insert(self.rng.randint(self.probe_pos, len(self.probe_order)), member)

    def _remove_live(self, member: NodeId) -> None:
        index = self.live_index.pop(member)
        last = self.live.pop()
        if last != member:
            self.live[index] = last
            self.live_index[last] = index

    # Choices --------------------------------------------------------------------------------
    def next_probe_target(self) -> NodeId | None:
        """Round-robin over a shuffled order, reshuffled after each full pass (SWIM §4.3)."""
        for _ in range(2):
            order = self.probe_order
            while self.probe_pos < len(order):
                member = order[self.probe_pos]
                self.probe_pos += 1
                if member in self.live_index:
                    return member
            order = list(self.live)
            self.rng.shuffle(order)
            self.probe_order = order
            self.probe_pos = 0
        return None

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
