"""Metrics computed from trace records and the ground truth they carry.

`MetricsAccumulator` consumes records one at a time, in trace order (streamed live from a run, or
read back from `trace.jsonl` with `swimlab.reports.trace.read_trace`), and keeps:

- beliefs: a boolean matrix `B[o, m]` = "observer o considers member m up" (alive or suspect),
  updated from `state` records; the truth `up[m]` from `host` records;
- `wrong`: how many (up observer, member) pairs disagree with the truth, maintained
  incrementally so "every live view is exactly the live set" is an O(1) test after each record;
- `col_alive[m]`: how many up observers still think m is up (dead-everywhere detection).

A verdict (`suspect`/`dead`) about a member is a false positive when the member is up, no fault
affects it, and none has for `fp_grace_s` (news of a deserved suspicion can still be travelling
when a fault ends). Self-entries (o == m) are ignored. Verdicts are counted once per observer
that hears them (`suspect`, `dead`), once per accusation (`originated`: the observer is the
accuser) and, as Lifeguard reports them, once per accusation made by a *healthy* accuser (up,
unimpaired and clear for `fp_grace_s` itself): a slow node accusing everyone is a different
failure from a lossy network fooling healthy nodes. `healthy_observers` counts the verdicts held
by healthy observers: a lossy node that misses a refutation and declares a live member dead in
its own view only is wrong, but the cluster is not.

Also kept: per crash, when each live observer first suspected / declared the crashed node dead
(the dissemination curve, fraction informed vs time); the number of distinct membership views
among up nodes at every sample (Rapid's Table 1); per-node send rates (Rapid's Table 2) from the
`sent_by_node` counters of the `end` record over each node's own up-time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_BELIEVES_UP = {
    "joined": True,
    "alive": True,
    "updated": True,
    "suspect": True,
    "dead": False,
    "left": False,
    "removed": False,
}


@dataclass
class CrashEpisode:
    node: str
    crash_t: float
    first_suspect_t: float | None = None
    first_dead_t: float | None = None
    dead_everywhere_t: float | None = None
    restarted_t: float | None = None
    observers: int = 0  # up nodes other than the crashed one, at the crash
    suspect_by: dict[str, float] = field(default_factory=dict)  # observer -> first suspect at
    dead_by: dict[str, float] = field(default_factory=dict)  # observer -> first dead at

    def dissemination(self) -> dict[str, Any]:
        """When each observer learned, relative to the first suspicion / first dead verdict."""

        def offsets(by: dict[str, float], t0: float | None) -> list[float]:
            return [] if t0 is None else sorted(round(t - t0, 6) for t in by.values())

        out: dict[str, Any] = {"node": self.node, "observers": self.observers}
        for name, by, t0 in (
            ("suspect", self.suspect_by, self.first_suspect_t),
            ("dead", self.dead_by, self.first_dead_t),
        ):
            times = offsets(by, t0)
            out[f"{name}_informed_s"] = times
            for q in (50, 99):
                k = math.ceil(self.observers * q / 100)
                out[f"{name}_t{q}_s"] = times[k - 1] if 0 < k <= len(times) else None
        return out

    def as_metric(self) -> dict[str, Any]:
        def rel(t: float | None) -> float | None:
            return None if t is None else round(t - self.crash_t, 6)

        return {
            "node": self.node,
            "crash_s": round(self.crash_t, 6),
            "first_suspect_s": rel(self.first_suspect_t),
            "first_dead_s": rel(self.first_dead_t),
            "dead_everywhere_s": rel(self.dead_everywhere_t),
            "restarted_s": rel(self.restarted_t),
        }


@dataclass
class Heal:
    t: float
    converged_t: float | None = None


@dataclass
class Interval:
    node: str
    cause: str
    start: float
    end: float | None = None


@dataclass
class MetricsAccumulator:
    fp_grace_s: float = 0.0
    warmup_s: float = 0.0
    sample_every_s: float = 1.0
    index: dict[str, int] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    now: float = 0.0

    def __post_init__(self) -> None:
        cap = 64
        self.B = np.zeros((cap, cap), dtype=bool)
        self.up = np.zeros(cap, dtype=bool)
        self.col_alive = np.zeros(cap, dtype=np.int64)
        self.wrong = 0
        self.impairments: dict[str, int] = {}
        self.clear_since: dict[str, float] = {}
        self.open_crash: dict[str, CrashEpisode] = {}
        self.crashes: list[CrashEpisode] = []
        self.heals: list[Heal] = []
        self.intervals: list[Interval] = []
        self._open_intervals: dict[tuple[str, str], Interval] = {}
        self.fp_suspect = 0
        self.fp_dead = 0
        self.fp_examples: list[dict[str, Any]] = []
        self.node_seconds = 0.0
        self._n_up = 0
        self._last_t = 0.0
        self.first_converged_t: float | None = None
        self.converged = False
        self.events_dropped = 0
        self.counters: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}
        self.sample_times: list[float] = []
        self.samples: list[np.ndarray] = []
        self.sample_up: list[np.ndarray] = []
        self._next_sample = 0.0
        self.sample_distinct: list[int] = []
        self.fp_originated = {"suspect": 0, "dead": 0}
        self.fp_healthy = {"suspect": 0, "dead": 0}
        self.fp_healthy_observers = {"suspect": 0, "dead": 0}
        self.uptime_s: dict[str, float] = {}
        self._up_since: dict[str, float] = {}

    # Indexing ---------------------------------------------------------------------------------
    def _idx(self, name: str) -> int:
        i = self.index.get(name)
        if i is None:
            i = self.index[name] = len(self.names)
            self.names.append(name)
            cap = self.up.shape[0]
            if i >= cap:
                new = cap * 2
                B = np.zeros((new, new), dtype=bool)
                B[:cap, :cap] = self.B
                self.B = B
                self.up = np.concatenate([self.up, np.zeros(new - cap, dtype=bool)])
                self.col_alive = np.concatenate([self.col_alive, np.zeros(new - cap, dtype=np.int64)])
        return i

    # Feeding ------------------------------------------------------------------------------------
    def feed(self, record: dict[str, Any]) -> None:
        t = record["t"]
        while t >= self._next_sample and self.sample_every_s > 0:
            self._sample(self._next_sample)
            self._next_sample += self.sample_every_s
        self.now = t
        kind = record["kind"]
        if kind == "state":
            self._state(t, record)
        elif kind == "host":
            self._host(t, record)
        elif kind == "impair":
            self._impair(t, record)
        elif kind == "fault":
            if record["op"] == "heal":
                self.heals.append(Heal(t))
                self._check_converged(t)
        elif kind == "meta":
            self.meta = record
            for name in record.get("nodes", ()):
                self._idx(name)
        elif kind == "end":
            self.counters = {k: v for k, v in record.items() if k not in ("t", "kind")}

    def _state(self, t: float, r: dict[str, Any]) -> None:
        event = r["event"]
        if event == "events_dropped":
            self.events_dropped += r["count"]
            return
        new = _BELIEVES_UP.get(event)
        if new is None:
            return
        member = r["member"]
        observer = r["node"]
        if event in ("suspect", "dead"):
            self._verdict(t, event, observer, member, r)
        if observer == member:
            return
        o = self._idx(observer)
        m = self._idx(member)
        old = bool(self.B[o, m])
        if old == new:
            return
        self.B[o, m] = new
        if self.up[o]:
            d = int(new) - int(old)
            self.col_alive[m] += d
            truth = bool(self.up[m])
            self.wrong += int(new != truth) - int(old != truth)
            if not new:
                self._check_dead_everywhere(t, member)
            self._check_converged(t)

    def _verdict(self, t: float, event: str, observer: str, member: str, r: dict[str, Any]) -> None:
        episode = self.open_crash.get(member)
        if episode is not None:
            if event == "suspect" and episode.first_suspect_t is None:
                episode.first_suspect_t = t
            if event == "dead" and episode.first_dead_t is None:
                episode.first_dead_t = t
            by = episode.suspect_by if event == "suspect" else episode.dead_by
            o = self.index.get(observer)
            if observer not in by and o is not None and self.up[o]:
                by[observer] = t
            return
        m = self.index.get(member)
        if m is None or not self.up[m] or t < self.warmup_s:
            return
        if self.impairments.get(member, 0) or t - self.clear_since.get(member, 0.0) < self.fp_grace_s:
            return
        if event == "suspect":
            self.fp_suspect += 1
        else:
            self.fp_dead += 1
        if self._healthy(t, observer):
            self.fp_healthy_observers[event] += 1
        accuser = r.get("accuser")
        if accuser == observer:
            self.fp_originated[event] += 1
            if self._healthy(t, accuser):
                self.fp_healthy[event] += 1
        if len(self.fp_examples) < 20:
            self.fp_examples.append(
                {
                    "t": round(t, 6),
                    "observer": observer,
                    "member": member,
                    "event": event,
                    "accuser": r.get("accuser"),
                }
            )

    def _healthy(self, t: float, name: str) -> bool:
        i = self.index.get(name)
        return (
            i is not None
            and bool(self.up[i])
            and not self.impairments.get(name, 0)
            and t - self.clear_since.get(name, 0.0) >= self.fp_grace_s
        )

    def _host(self, t: float, r: dict[str, Any]) -> None:
        name = r["node"]
        i = self._idx(name)
        self._integrate(t)
        going_up = r["status"] == "up"
        if going_up == bool(self.up[i]):
            return
        B, up = self.B, self.up
        n = len(self.names)
        if going_up:
            if r["how"] == "formed":
                # Booted into an already-formed cluster: it knows every initial node alive.
                B[i, :] = False
                B[i, [self.index[m] for m in self.meta.get("nodes", ()) if m != name]] = True
            elif r["how"] != "restart-kept":
                B[i, :] = False  # a fresh process knows nobody yet
            col = B[:n, i] & up[:n]
            self.wrong += int((~B[:n, i] & up[:n]).sum()) - int(col.sum())
            up[i] = True
            row = B[i, :n]
            self.col_alive[:n] += row
            self.wrong += int((row != up[:n]).sum()) - int(row[i] != up[i])
            self._n_up += 1
            self._up_since[name] = t
            self.clear_since[name] = t
            episode = self.open_crash.pop(name, None)
            if episode is not None:
                episode.restarted_t = t
            self._close_interval(name, "down", t)
        else:
            row = B[i, :n]
            self.col_alive[:n] -= row
            self.wrong -= int((row != up[:n]).sum()) - int(row[i] != up[i])
            up[i] = False
            col = B[:n, i] & up[:n]
            self.wrong += int(col.sum()) - int((~B[:n, i] & up[:n]).sum())
            self._n_up -= 1
            since = self._up_since.pop(name, None)
            if since is not None:
                self.uptime_s[name] = self.uptime_s.get(name, 0.0) + t - since
            if r["how"] == "crash":
                episode = CrashEpisode(name, t, observers=self._n_up)
                self.open_crash[name] = episode
                self.crashes.append(episode)
            self._open_interval(name, "down", t)
            for member in list(self.open_crash):
                self._check_dead_everywhere(t, member)
        self._check_converged(t)

    def _impair(self, t: float, r: dict[str, Any]) -> None:
        name = r["node"]
        count = self.impairments.get(name, 0) + (1 if r["on"] else -1)
        self.impairments[name] = max(count, 0)
        if r["on"]:
            self._open_interval(name, r["cause"], t)
        else:
            self._close_interval(name, r["cause"], t)
            if count <= 0:
                self.clear_since[name] = t

    def _open_interval(self, name: str, cause: str, t: float) -> None:
        if (name, cause) not in self._open_intervals:
            interval = Interval(name, cause, t)
            self._open_intervals[(name, cause)] = interval
            self.intervals.append(interval)

    def _close_interval(self, name: str, cause: str, t: float) -> None:
        interval = self._open_intervals.pop((name, cause), None)
        if interval is not None:
            interval.end = t

    def _check_dead_everywhere(self, t: float, member: str) -> None:
        episode = self.open_crash.get(member)
        if (
            episode is not None
            and episode.dead_everywhere_t is None
            and self.col_alive[self.index[member]] == 0
        ):
            episode.dead_everywhere_t = t

    def _check_converged(self, t: float) -> None:
        self.converged = self.wrong == 0 and self._n_up > 0
        if not self.converged:
            return
        # Bootstrap convergence counts only once every initial node is up (at t = 0 the lone
        # seed trivially "agrees" with itself).
        if self.first_converged_t is None and self._n_up >= len(self.meta.get("nodes", ())):
            self.first_converged_t = t
        for heal in self.heals:
            if heal.converged_t is None:
                heal.converged_t = t

    def _integrate(self, t: float) -> None:
        self.node_seconds += self._n_up * (t - self._last_t)
        self._last_t = t

    def _sample(self, t: float) -> None:
        n = len(self.names)
        self.sample_times.append(t)
        self.samples.append(self.B[:n, :n].sum(axis=1).astype(np.int32))
        self.sample_up.append(self.up[:n].copy())
        self.sample_distinct.append(self.distinct_views())

    def distinct_views(self) -> int:
        """How many different membership views (members believed up, self included) the up
        nodes hold right now; 1 means every live node agrees."""
        n = len(self.names)
        rows = np.flatnonzero(self.up[:n])
        if rows.size == 0:
            return 0
        if self.wrong == 0:
            return 1  # every live node holds the truth
        views = self.B[rows, :n].copy()
        views[np.arange(rows.size), rows] = True
        # Hashing packed rows is O(N²/8); np.unique(axis=0) sorts rows and cost 30 ms at N=1000.
        return len({row.tobytes() for row in np.packbits(views, axis=1)})

    def load_per_node(self, end_t: float) -> dict[str, Any]:
        """Mean / p99 / max over nodes of each node's send rate over its own up-time."""
        sent = self.counters.get("sent_by_node")
        if not sent:
            return {"messages_per_s": None, "bytes_per_s": None}
        uptime = dict(self.uptime_s)
        for name, since in self._up_since.items():
            uptime[name] = uptime.get(name, 0.0) + end_t - since
        names = [name for name in sent if uptime.get(name, 0.0) > 0]
        out: dict[str, Any] = {}
        for key, col in (("messages_per_s", 0), ("bytes_per_s", 1)):
            rates = np.array([sent[name][col] / uptime[name] for name in names], dtype=float)
            out[key] = (
                None
                if rates.size == 0
                else {
                    "mean": round(float(rates.mean()), 6),
                    "p99": round(float(np.percentile(rates, 99)), 6),
                    "max": round(float(rates.max()), 6),
                }
            )
        return out

    # Results ------------------------------------------------------------------------------------
    def stays_dead(self) -> list[str]:
        """Up members that some up observer still considers down."""
        n = len(self.names)
        up = self.up[:n]
        expected = int(up.sum()) - 1
        return [self.names[i] for i in np.flatnonzero(up & (self.col_alive[:n] < expected))]

    def finish(self, end_t: float, wall_s: float) -> dict[str, Any]:
        self._integrate(end_t)
        for interval in self.intervals:
            if interval.end is None:
                interval.end = end_t
        node_hours = self.node_seconds / 3600.0
        node_seconds = max(self.node_seconds, 1e-9)
        sent = self.counters.get("messages_sent", 0)
        return {
            "detection": [e.as_metric() for e in self.crashes],
            "false_positives": {
                "suspect": self.fp_suspect,
                "dead": self.fp_dead,
                "per_node_hour": {
                    "suspect": round(self.fp_suspect / node_hours, 6) if node_hours else None,
                    "dead": round(self.fp_dead / node_hours, 6) if node_hours else None,
                },
                "originated": dict(self.fp_originated),
                "healthy_accusers": {
                    **self.fp_healthy,
                    "per_node_hour": {
                        k: round(v / node_hours, 6) if node_hours else None
                        for k, v in self.fp_healthy.items()
                    },
                },
                "healthy_observers": dict(self.fp_healthy_observers),
                "grace_s": self.fp_grace_s,
                "examples": self.fp_examples,
            },
            "load": {
                "messages_per_node_per_s": round(sent / node_seconds, 6),
                "bytes_per_node_per_s": round(self.counters.get("bytes_sent", 0) / node_seconds, 6),
                "messages_dropped": self.counters.get("messages_dropped", {}),
                "per_node": self.load_per_node(end_t),
            },
            "dissemination": [e.dissemination() for e in self.crashes],
            "views": {
                "t": [round(x, 6) for x in self.sample_times],
                "distinct": list(self.sample_distinct),
            },
            # Bootstrap is a storm of distinct views by construction; count from warm-up on.
            "max_distinct_views": max(
                (
                    d
                    for t, d in zip(self.sample_times, self.sample_distinct, strict=True)
                    if t >= self.warmup_s
                ),
                default=0,
            ),
            "heal": [None if h.converged_t is None else round(h.converged_t - h.t, 6) for h in self.heals],
            "first_converged_s": None if self.first_converged_t is None else round(self.first_converged_t, 6),
            "converged_at_end": self.converged,
            "disagreeing_pairs_at_end": self.wrong,
            "stays_dead": self.stays_dead(),
            "node_hours": round(node_hours, 6),
            "events_dropped": self.events_dropped,
            "wall_s": round(wall_s, 3),
            "events": self.counters.get("events", 0),
        }
