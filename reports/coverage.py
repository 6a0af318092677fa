"""Coverage of interesting protocol situations, counted over a trace (the fault search's map).

A search that finds nothing is only worth something if it reached the situations where bugs
live; these counters say which it reached and how often (`swimlab search` prints them, lists
the ones never reached, and steers towards runs that reach more: `scenarios/search.py`). Each
is counted from trace records, by the rule beside it. The message rules need the message
records (`[trace] messages`, on for small clusters).

- `suspicion_refuted`: a `refuted` record answering a suspicion;
- `death_refuted`: a `refuted` record answering a dead (or left) verdict;
- `suspicion_confirmed`: a suspicion (member, incarnation) raised by at least two distinct
  accusers (Lifeguard's independent confirmations shrink its timeout);
- `suspicion_to_dead`: a node's own suspicion timer declared a member dead;
- `healed_during_suspicion`: a partition healed while some up node held a member suspect;
- `indirect_probe_succeeded`: a relay got a ping-req, pinged, got the ack and acked the
  origin (the direct probe had failed, or the origin would not have asked);
- `incarnation_bump`: any `refuted` record;
- `dead_member_rejoined`: a node held a member dead and then joined it again;
- `concurrent_joins`: two processes booting or joining (not the initial cluster's boot) less
  than a second apart;
- `wiped_restart_lower_incarnation`: a wiped restart of a node whose incarnation was above 0
  (its new life starts lower than what others hold);
- `pushpull_divergent`: a push-pull delivered between two up nodes whose views differ;
- `events_dropped`: an `events_dropped` record;
- `one_way_partition`: a cut where some node drops a peer that does not drop it;
- `member_left`: a graceful leave.

Beside them, one measure of how close a run came to a liveness failure, which the search
climbs (hypothesis `target`): `held_dead_s`, the longest a live node was held dead by every
other live node (the `reachable_not_dead_everywhere` oracle fails when it passes a bound).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from swimlab.protocol.trace_schema import TraceRecord

SITUATIONS = (
    "suspicion_refuted",
    "death_refuted",
    "suspicion_confirmed",
    "suspicion_to_dead",
    "healed_during_suspicion",
    "indirect_probe_succeeded",
    "incarnation_bump",
    "dead_member_rejoined",
    "concurrent_joins",
    "wiped_restart_lower_incarnation",
    "pushpull_divergent",
    "events_dropped",
    "one_way_partition",
    "member_left",
)

_UP = {"joined": True, "alive": True, "updated": True, "suspect": True, "dead": False, "left": False}
_JOIN_HOW = ("boot", "join", "restart-wiped")
_CONCURRENT_S = 1.0
_BOOTSTRAP_S = 5.0  # the initial cluster's own boots are not "concurrent joins"


class Coverage:
    """Feed trace records in order; `counts` holds how often each situation was reached."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._state: dict[tuple[str, str], str] = {}  # (observer, member) -> event last heard
        self._up: dict[str, set[str]] = {}  # observer -> members it holds up
        self._accusers: dict[tuple[str, int], set[str]] = {}
        self._confirmed: set[tuple[str, int]] = set()
        self._own: dict[str, int] = {}
        self._last_join = -1e9
        self._relay: dict[
            tuple[str, str], int
        ] = {}  # (relay, origin) -> stage 1 got ping-req, 2 pinged, 3 acked
        self._partitioned = False
        self._live: set[str] = set()
        self._dead_since: dict[str, float] = {}
        self.held_dead_s = 0.0

    def feed(self, record: TraceRecord) -> None:
        r: Any = record
        kind = r["kind"]
        if kind == "state":
            self._on_state(r)
            self._held_dead(r["t"])
        elif kind == "host":
            self._on_host(r)
            self._held_dead(r["t"])
        elif kind == "grudge":
            self._on_grudge(r)
        elif kind in ("deliver", "send"):
            self._on_message(kind, r)
        elif kind == "end":
            self.finish(r["t"])

    def _on_state(self, r: Mapping[str, Any]) -> None:
        event, node = r["event"], r["node"]
        if event == "events_dropped":
            self.counts["events_dropped"] += 1
            return
        if event == "refuted":
            self.counts["incarnation_bump"] += 1
            which = "suspicion_refuted" if r["accusation"] == "suspect" else "death_refuted"
            if r["accusation"] != "alive":
                self.counts[which] += 1
            self._own[node] = r["incarnation"]
            return
        member = r["member"]
        if member == node:
            return
        key = (node, member)
        if event == "joined" and self._state.get(key) == "dead":
            self.counts["dead_member_rejoined"] += 1
        if event == "suspect":
            suspicion = (member, r["incarnation"])
            accusers = self._accusers.setdefault(suspicion, set())
            accusers.add(r["accuser"])
            if len(accusers) >= 2 and suspicion not in self._confirmed:
                self._confirmed.add(suspicion)
                self.counts["suspicion_confirmed"] += 1
        if event == "dead" and r.get("accuser") == node:
            self.counts["suspicion_to_dead"] += 1
        self._state[key] = event
        up = self._up.setdefault(node, {node})
        if _UP.get(event, False):
            up.add(member)
        else:
            up.discard(member)

    def _on_host(self, r: Mapping[str, Any]) -> None:
        node, how, t = r["node"], r["how"], r["t"]
        if r["status"] == "up":
            self._live.add(node)
        else:
            self._live.discard(node)
        if r["status"] == "up":
            if how == "restart-wiped" and self._own.get(node, 0) > 0:
                self.counts["wiped_restart_lower_incarnation"] += 1
            if how in _JOIN_HOW and t > _BOOTSTRAP_S:
                if t - self._last_join < _CONCURRENT_S:
                    self.counts["concurrent_joins"] += 1
                self._last_join = t
            if how != "restart-kept":
                self._own[node] = 0
                self._up[node] = {node}
                for key in [k for k in self._state if k[0] == node]:
                    del self._state[key]
        elif how == "leave":
            self.counts["member_left"] += 1

    def _on_grudge(self, r: Mapping[str, Any]) -> None:
        cuts = r["cuts"]
        if not cuts:
            if self._partitioned and any(e == "suspect" for e in self._state.values()):
                self.counts["healed_during_suspicion"] += 1
            self._partitioned = False
            return
        self._partitioned = True
        drops = {(a, b) for cut in cuts for a in cut["nodes"] for b in cut["drop_from"]}
        if any((b, a) not in drops for a, b in drops):
            self.counts["one_way_partition"] += 1

    def _on_message(self, kind: str, r: Mapping[str, Any]) -> None:
        msg, src, dst = r["msg"], r["src"], r["dst"]
        if kind == "deliver":
            if msg == "PingReq":
                self._relay[(dst, src)] = 1
            elif msg == "Ack":
                for key, stage in self._relay.items():
                    if key[0] == dst and stage == 2:
                        self._relay[key] = 3
            elif msg == "PushPull":
                a, b = self._up.get(src), self._up.get(dst)
                if a is not None and b is not None and a != b:
                    self.counts["pushpull_divergent"] += 1
            return
        if msg == "Ping":
            for key, stage in self._relay.items():
                if key[0] == src and stage == 1:
                    self._relay[key] = 2
        elif msg == "Ack" and self._relay.get((src, dst)) == 3:
            self.counts["indirect_probe_succeeded"] += 1
            del self._relay[(src, dst)]

    def _held_dead(self, t: float) -> None:
        """Update which live nodes every other live node holds down, and the longest so far."""
        live = self._live
        for m in live:
            others = [o for o in live if o != m]
            if others and all(m not in self._up.get(o, ()) for o in others):
                since = self._dead_since.setdefault(m, t)
                self.held_dead_s = max(self.held_dead_s, t - since)
            else:
                self._dead_since.pop(m, None)
        for m in [m for m in self._dead_since if m not in live]:
            del self._dead_since[m]

    def finish(self, t: float) -> None:
        """The run ended at `t`: close the open intervals."""
        for since in self._dead_since.values():
            self.held_dead_s = max(self.held_dead_s, t - since)

    def reached(self) -> int:
        """How many distinct situations this trace reached (what the search maximises)."""
        return sum(1 for s in SITUATIONS if self.counts[s])
