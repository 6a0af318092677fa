"""`MetricsAccumulator`: a run's records in, its `Metrics` (swimlab.reports.schema) out.

It consumes records one at a time, in trace order (streamed live from a run, or read back from
`trace.jsonl` with `swimlab.reports.trace.read_trace`). Each record is read once: the ground truth
(`truth.py`: who is up, what faults act on whom, who can reach whom - `links.py`) and the views
(`beliefs.py`: who believes whom up) take it in, then the observers' hooks run (`observer.py`),
each observer keeping one concern's counts and building its part of the result:

- `detection.py`: per crash, first suspicion, first dead, dead everywhere, who learned when and
  how (own timer or news), the informed fraction of the live membership (`detection`,
  `dissemination`);
- `false_positives.py`: undeserved suspect/dead verdicts by reachability, counted raised /
  raised by healthy accusers / heard, post-heal false deaths (`false_positives`);
- `load.py`: messages and bytes per node per second (`load`);
- `views.py`: sampled view sizes, distinct views, disagreement and flips, the re-merge curve
  after each heal (`views`, `max_distinct_views`, `warmup_end_s`, `remerge`, series.json);
- `convergence.py`: bootstrap, views agreeing and staying agreed after each fault's end,
  agreement at the end (`recoveries`, `first_converged_s`, `converged_at_end`,
  `disagreeing_pairs_at_end`, `stays_dead`);
- `partitions.py`: each side of a partition dropping the other (`partitions`);
- `returns.py`: restarted and healed nodes back in every view (`returns`);
- `stability.py`: dead verdicts raised and flapping (`dead_raised`, `flaps`);
- `intervals.py`: fault intervals per node and cause (series.json);
- `totals.py`: dropped notifications, kernel events (`events_dropped`, `events`);
- `manager.py`: only for runs with a cluster manager: split brain, availability, survivors,
  decisions, instability (`manager`), from the manager's records (`view`, `serving`, `decision`).

A new metric is a field in `schema.py` and the code in one observer that measures it (a new
top-level field also takes its line in `finish`); a new observer is a class and its line in
`__init__` below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from swimlab.protocol.trace_schema import (
    EndRecord,
    FaultRecord,
    GrudgeRecord,
    HostRecord,
    ImpairRecord,
    MetaRecord,
    NotificationRecord,
    TraceRecord,
)

from ..schema import Metrics, ViewSeries
from .beliefs import BELIEVES_UP, Beliefs
from .convergence import Convergence
from .detection import Detection
from .false_positives import FalsePositives
from .intervals import Intervals
from .load import Load
from .manager import ManagerObserver
from .observer import Hooks, Observer
from .partitions import Partitions
from .returns import Returns
from .stability import Stability
from .totals import Totals
from .truth import GroundTruth
from .views import Views


class MetricsAccumulator:
    def __init__(
        self,
        warmup_s: float = 0.0,
        sample_every_s: float = 1.0,
        manager: tuple[str, float] | None = None,  # (strategy, window_s) of a [manager] run
    ) -> None:
        self.sample_every_s = sample_every_s
        self._next_sample = 0.0
        self.truth = GroundTruth()
        self.beliefs = Beliefs(self.truth)
        self.detection = Detection(self.truth, self.beliefs)
        self.false_positives = FalsePositives(self.truth, warmup_s)
        self.load = Load(self.truth)
        self.views = Views(self.truth, self.beliefs, warmup_s)
        self.convergence = Convergence(self.truth, self.beliefs)
        self.partitions = Partitions(self.truth, self.beliefs)
        self.returns = Returns(self.truth, self.beliefs)
        self.stability = Stability(self.truth)
        self.intervals = Intervals()
        self.totals = Totals()
        observers: list[Observer] = [
            self.detection,
            self.false_positives,
            self.load,
            self.views,
            self.convergence,
            self.partitions,
            self.returns,
            self.stability,
            self.intervals,
            self.totals,
        ]
        self.manager: ManagerObserver | None = None
        if manager is not None:
            self.manager = ManagerObserver(self.truth, manager[0], manager[1], warmup_s)
            observers.append(self.manager)
        self._hooks = Hooks.of(observers)
        self._handlers: dict[str, Callable[[float, Any], None]] = {
            "state": self._state,
            "host": self._host,
            "impair": self._impair,
            "grudge": self._grudge,
            "fault": self._fault,
            "meta": self._meta,
            "end": self._end,
        }  # send / deliver / drop: no metric reads them
        if self.manager is not None:
            for kind in ("view", "serving", "decision"):  # lease, partition_status: read by nobody yet
                self._handlers[kind] = self.manager.on_record

    def feed(self, record: TraceRecord) -> None:
        t = record["t"]
        while t >= self._next_sample and self.sample_every_s > 0:
            for hook in self._hooks.on_sample:
                hook(self._next_sample)
            self._next_sample += self.sample_every_s
        handler = self._handlers.get(record["kind"])
        if handler is not None:
            handler(t, record)

    # One handler per record kind ------------------------------------------------------------
    def _state(self, t: float, r: NotificationRecord) -> None:
        if r["event"] == "events_dropped":
            for dropped in self._hooks.on_events_dropped:
                dropped(t, r["node"], r["count"])
            return
        if r["event"] == "refuted":
            return  # the refuting node's own view does not change
        believes_up = BELIEVES_UP[r["event"]]
        if r["event"] == "suspect" or r["event"] == "dead":
            for verdict in self._hooks.on_verdict:
                verdict(t, r)
        observer, member = r["node"], r["member"]
        if observer == member:
            return
        for state in self._hooks.on_state:
            state(t, r)
        truth = self.truth
        if self.beliefs.set(truth.idx(observer), truth.idx(member), believes_up):
            for view_change in self._hooks.on_view_change:
                view_change(t, member, believes_up)
            for view_entry in self._hooks.on_view_entry:
                view_entry(t, observer, member, believes_up)

    def _host(self, t: float, r: HostRecord) -> None:
        name, how = r["node"], r["how"]
        going_up = r["status"] == "up"
        i = self.truth.host(t, name, going_up, restart=how.startswith("restart"))
        if i is None:
            return
        if going_up:
            self.beliefs.node_up(i, how)
            for hook in self._hooks.on_host_up:
                hook(t, name, how)
        else:
            self.beliefs.node_down(i)
            for hook in self._hooks.on_host_down:
                hook(t, name, how)

    def _impair(self, t: float, r: ImpairRecord) -> None:
        self.truth.impair(t, r["node"], r["cause"], r["on"])
        for hook in self._hooks.on_impair:
            hook(t, r)

    def _grudge(self, t: float, r: GrudgeRecord) -> None:
        self.truth.links.grudge(t, r["cuts"])
        for hook in self._hooks.on_grudge:
            hook(t, r)

    def _fault(self, t: float, r: FaultRecord) -> None:
        for hook in self._hooks.on_fault:
            hook(t, r)

    def _meta(self, t: float, r: MetaRecord) -> None:
        self.truth.meta(r)

    def _end(self, t: float, r: EndRecord) -> None:
        for hook in self._hooks.on_end:
            hook(r)

    # Results --------------------------------------------------------------------------------
    def finish(self, end_t: float, wall_s: float) -> Metrics:
        self.truth.finish(end_t)
        self.intervals.finish(end_t)
        self.convergence.finish(end_t)
        self.returns.finish(end_t)
        node_hours = self.truth.node_seconds / 3600.0
        return Metrics(
            detection=self.detection.detection(),
            false_positives=self.false_positives.result(node_hours),
            load=self.load.result(end_t),
            dissemination=self.detection.dissemination(),
            views=self.views.counts(),
            max_distinct_views=self.views.max_distinct(),
            warmup_end_s=self.views.warmup_end_s(),
            remerge=self.views.remerge(),
            recoveries=self.convergence.result(),
            partitions=self.partitions.result(),
            returns=self.returns.result(),
            dead_raised=self.stability.dead_raised,
            flaps=self.stability.result(),
            first_converged_s=self.convergence.first_converged_s(),
            converged_at_end=self.convergence.converged,
            disagreeing_pairs_at_end=self.beliefs.wrong,
            stays_dead=self.beliefs.held_down(),
            node_hours=round(node_hours, 6),
            events_dropped=self.totals.events_dropped,
            wall_s=round(wall_s, 3),
            events=self.totals.events,
            manager=None if self.manager is None else self.manager.result(end_t, node_hours),
        )

    def series(self) -> ViewSeries:
        """`series.json`: view sizes per node per sample, with the fault intervals (after `finish`)."""
        return self.views.series(self.intervals.result())
