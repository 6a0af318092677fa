"""The fault timeline: turns a scenario's `[[faults]]` into timed operations on a runtime.

Which nodes a fault hits is decided here, when it fires, from a stream seeded by the run seed
and the fault's index (so adding a fault never changes another's choice; a repeated fault's
k-th firing, k >= 1, draws from its own stream). Random picks come from the up nodes (restart:
the down ones), within `within` if given, and skip the seed nodes unless `include_seeds` (a
cluster with no seed left cannot take restarted nodes back, which is a different experiment).
Everything happens through the runtime interface (`scenarios/runtime.py`), so the same
timeline drives the simulator and the live runtime.

Nothing is skipped silently. A fault that finds a named node in the wrong state (crash, leave,
pause or a restart batch of a node that is down; restart of a node that is up) leaves that
node alone and adds a warning; so does a random pick asking for more nodes than are eligible.
A kept restart (restart, mass_restart, rolling_restart with state = "kept") needs a crashed
node: a node that left the cluster (`has_left`) cannot resume its state, so random picks skip
it and a named one is left alone with a warning (the schema refuses what it can tell up front).
`timeline` records what was actually injected (time, fault, op, the nodes, a partition's sides
and bridge, the parameters), `warnings` what was not; the runner puts both in result.json.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from swimlab.protocol.faults import (
    Churn,
    Clock,
    Crash,
    Duplicate,
    FlipFlop,
    Heal,
    IngressDrop,
    Join,
    Latency,
    Leave,
    Loss,
    MassRestart,
    Partition,
    Pause,
    Restart,
    RollingRestart,
    Slow,
    Targets,
    Toggling,
    recorded,
)
from swimlab.protocol.streams import stream

from . import grudges
from .runtime import FaultRuntime
from .schema import Fault, Scenario


def _stream(seed: int, *parts: object) -> random.Random:
    return stream(seed, "nemesis", *parts)


class Nemesis:
    def __init__(
        self, scenario: Scenario, runtime: FaultRuntime, seed: int, join_seeds: tuple[str, ...]
    ) -> None:
        self.scenario = scenario
        self.rt = runtime
        self.seed = seed
        self.join_seeds = set(join_seeds)
        self._new_nodes = 0
        self.timeline: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []

    def resolved_timeline(self) -> list[dict[str, Any]]:
        """What was injected, in time order (same-instant entries in the order they happened)."""
        return sorted(self.timeline, key=lambda entry: float(entry["t"]))

    def schedule(self) -> None:
        for index, fault in enumerate(self.scenario.faults):
            for k, when in enumerate(fault.firings()):
                self.rt.at(when, self._fire, index, fault, k)

    # Records ------------------------------------------------------------------------------------
    def _note(self, fault: Fault, op: str, nodes: list[str], **extra: Any) -> None:
        entry: dict[str, Any] = {"t": round(self.rt.now, 6), "fault": fault.path, "op": op, "nodes": nodes}
        self.timeline.append(entry | extra)

    def _warn(self, fault: Fault, message: str) -> None:
        self.warnings.append({"t": round(self.rt.now, 6), "fault": fault.path, "message": message})

    def _in_state(self, fault: Fault, names: list[str], up: bool, doing: str) -> list[str]:
        """The named nodes that are up (`up`) or down; a warning names the others."""
        keep = [name for name in names if self.rt.is_up(name) == up]
        skipped = [name for name in names if name not in keep]
        if skipped:
            state = "down" if up else "up"
            verb = "is" if len(skipped) == 1 else "are"
            self._warn(fault, f"{doing}: {', '.join(skipped)} {verb} {state}, left alone")
        return keep

    def _not_left(self, fault: Fault, names: list[str], doing: str) -> list[str]:
        """The nodes a kept restart can resume, or a leave can make leave; a warning names those
        that left the cluster."""
        keep = [name for name in names if not self.rt.has_left(name)]
        gone = [name for name in names if name not in keep]
        if gone:
            why = (
                "already left (it lingers 2 s before it exits)"
                if doing == "leave"
                else 'left the cluster; a kept restart needs a crashed node (state = "wiped" brings it back)'
            )
            self._warn(fault, f"{doing}: {', '.join(gone)} {why}, left alone")
        return keep

    # Selection ----------------------------------------------------------------------------------
    def _up(self) -> list[str]:
        return [name for name in self.rt.node_names() if self.rt.is_up(name)]

    def _down(self) -> list[str]:
        return [name for name in self.rt.node_names() if not self.rt.is_up(name)]

    def _select(self, fault: Fault, rng: random.Random, pool: list[str] | None = None) -> list[str]:
        select = fault.select
        if select.nodes is not None:
            return list(select.nodes)
        pool = self._up() if pool is None else pool
        if select.within is not None:
            within = set(select.within)
            pool = [x for x in pool if x in within]
        if not select.include_seeds:
            pool = [x for x in pool if x not in self.join_seeds] or pool
        if select.count is not None:
            k = select.count
        else:
            assert select.fraction is not None  # the schema requires a selector
            base = len(select.within) if select.within is not None else len(self.rt.node_names())
            k = max(1, round(select.fraction * base))
        if k > len(pool):
            self._warn(fault, f"{fault.op}: asked for {k} nodes, only {len(pool)} eligible")
        return sorted(rng.sample(pool, min(k, len(pool))), key=pool.index)

    # Operations ---------------------------------------------------------------------------------
    def _fire(self, index: int, fault: Fault, repetition: int = 0) -> None:
        rng = _stream(self.seed, index) if repetition == 0 else _stream(self.seed, index, repetition)
        p = fault.params
        if isinstance(p, FlipFlop):
            self._flip_flop(index, fault, p, rng)
            return
        if isinstance(p, Churn):
            self._churn(fault, p, rng)
            return
        names = self._apply(fault, rng, index, repetition=repetition)
        if isinstance(p, Toggling) and p.duration_s is not None:
            self.rt.at(self.rt.now + p.duration_s, self._revert, fault, names)

    def _apply(
        self,
        fault: Fault,
        rng: random.Random,
        index: int,
        names: list[str] | None = None,
        repetition: int = 0,
    ) -> list[str]:
        """Apply one operation; return the nodes it hit (reused to revert or re-apply it)."""
        rt = self.rt
        p = fault.params
        targets = fault.spec.targets
        if targets is Targets.DOWN:
            kept = isinstance(p, Restart) and p.state == "kept"
            down = [x for x in self._down() if not (kept and rt.has_left(x))]
            names = names or self._select(fault, rng, down)
        elif targets in (Targets.SHAPE, Targets.NONE):
            names = names or []
        elif targets is Targets.UP_OR_EVERY_LINK and not fault.select.given():
            names = []  # uniform loss on every link
        else:
            names = names or self._select(fault, rng)
        if isinstance(p, Crash | Leave | Pause | MassRestart):
            names = self._in_state(fault, names, True, fault.op)
        elif isinstance(p, Restart):
            names = self._in_state(fault, names, False, "restart")
        if isinstance(p, Restart | MassRestart | RollingRestart) and p.state == "kept":
            names = self._not_left(fault, names, fault.op)
        if isinstance(p, Leave):
            names = self._not_left(fault, names, fault.op)
        rt.record_fault(fault.op, names, **recorded(p))
        extra: dict[str, Any] = {"params": recorded(p)}
        if fault.repeat is not None:
            extra["repetition"] = repetition
        if isinstance(p, Crash):
            for name in names:
                rt.crash(name)
        elif isinstance(p, Restart):
            for name in names:
                rt.restart(name, wiped=p.state == "wiped")
        elif isinstance(p, MassRestart):
            for name in names:
                rt.crash(name)
            later = rt.now + p.downtime_s
            for name in names:
                rt.at(later, rt.restart, name, p.state == "wiped")
        elif isinstance(p, RollingRestart):
            batches = [names[i : i + p.batch] for i in range(0, len(names), p.batch)]
            extra["batches"] = batches
            for i, batch in enumerate(batches):
                rt.at(rt.now + i * p.interval_s, self._roll, fault, p, i, batch)
        elif isinstance(p, Leave):
            for name in names:
                rt.leave(name)
        elif isinstance(p, Join):
            self._note(fault, fault.op, names, **extra)
            for _ in range(p.new_nodes):
                self._join_new(fault)
            return names
        elif isinstance(p, Pause):
            for name in names:
                rt.pause(name, p.duration_s)
        elif isinstance(p, Slow):
            rt.set_slow(names, p.delay_s)
        elif isinstance(p, Partition):
            cut = grudges.shape(
                p.shape,
                self._up(),
                rng,
                one_way=p.one_way,
                groups=p.groups,
                chosen=fault.select.nodes or (),
                bridges=p.bridge or (),
            )
            rt.partition(cut.grudge)
            extra |= {"sides": cut.sides} if cut.sides else {}
            extra |= {"bridge": cut.bridge} if cut.bridge else {}
            extra |= {"ring": cut.ring} if cut.ring else {}
        elif isinstance(p, Heal):
            rt.heal()
        elif isinstance(p, Loss):
            if names:
                rt.set_loss(names, p.rate, p.direction)
            else:
                rt.set_default_loss(p.rate)
        elif isinstance(p, Latency):
            rt.set_extra_delay(names, p.add_ms / 1000.0)
        elif isinstance(p, Duplicate):
            rt.set_duplicate(names, p.rate)
        elif isinstance(p, IngressDrop):
            rt.set_ingress_drop(names, True)
        elif isinstance(p, Clock):
            for name in names:
                if p.drift_ppm is not None:
                    rt.set_drift(name, p.drift_ppm)
                if p.step_s:
                    rt.clock_step(name, p.step_s)
        self._note(fault, fault.op, names, **extra)
        if isinstance(p, MassRestart):  # noted now (another `at` would shift the runtime's tie-breaks)
            self.timeline.append({"t": round(later, 6), "fault": fault.path, "op": "restart", "nodes": names})
        return names

    def _roll(self, fault: Fault, p: RollingRestart, i: int, batch: list[str]) -> None:
        """One batch of a rolling restart: down now, back after `downtime_s`."""
        down = self._in_state(fault, batch, True, f"rolling_restart batch {i}")
        self._note(fault, "crash", down, batch=i)
        for name in down:
            self.rt.crash(name)
        self.rt.at(self.rt.now + p.downtime_s, self._roll_back, fault, p, i, down)

    def _roll_back(self, fault: Fault, p: RollingRestart, i: int, batch: list[str]) -> None:
        back = self._in_state(fault, batch, False, f"rolling_restart batch {i} restart")
        if p.state == "kept":
            back = self._not_left(fault, back, f"rolling_restart batch {i} restart")
        self._note(fault, "restart", back, batch=i)
        for name in back:
            self.rt.restart(name, wiped=p.state == "wiped")

    def _revert(self, fault: Fault, names: list[str]) -> None:
        rt = self.rt
        p = fault.params
        revert = fault.spec.revert
        assert revert is not None, fault.op  # only toggling faults are reverted
        rt.record_fault(revert, names)
        self._note(fault, revert, names)
        if isinstance(p, Partition):
            rt.heal()
        elif isinstance(p, Loss):
            if names:
                rt.set_loss(names, 0.0, p.direction)
            else:
                rt.set_default_loss(self.scenario.network.loss)
        elif isinstance(p, Latency):
            rt.set_extra_delay(names, 0.0)
        elif isinstance(p, Duplicate):
            rt.set_duplicate(names, 0.0)
        elif isinstance(p, IngressDrop):
            rt.set_ingress_drop(names, False)
        elif isinstance(p, Slow):
            rt.set_slow(names, 0.0)

    def _flip_flop(self, index: int, fault: Fault, p: FlipFlop, rng: random.Random) -> None:
        inner = fault.inner
        assert inner is not None  # the schema requires it
        period = p.period_s
        end = self.rt.now + p.duration_s
        chosen: list[str] = []

        def on() -> None:
            if self.rt.now >= end:
                return
            chosen[:] = self._apply(inner, rng, index, chosen or None)
            self.rt.at(self.rt.now + period, off)

        def off() -> None:
            self._revert(inner, chosen)
            self.rt.at(self.rt.now + period, on)

        on()

    def _churn(self, fault: Fault, p: Churn, rng: random.Random) -> None:
        """Independent Poisson processes of joins, graceful leaves and crashes."""
        end = self.rt.now + p.duration_s
        self.rt.record_fault("churn", [], **recorded(p))
        self._note(fault, "churn", [], params=recorded(p))
        actions: list[tuple[float, Callable[[], None]]] = [
            (p.join_rate_per_s, lambda: self._join_new(fault)),
            (p.leave_rate_per_s, lambda: self._random_up(fault, rng, "leave", self.rt.leave)),
            (p.crash_rate_per_s, lambda: self._random_up(fault, rng, "crash", self.rt.crash)),
        ]
        for rate, action in actions:
            if rate > 0:
                self._poisson(rng, rate, end, action)

    def _poisson(self, rng: random.Random, rate: float, end: float, action: Callable[[], None]) -> None:
        t = self.rt.now + rng.expovariate(rate)
        if t < end:

            def tick() -> None:
                action()
                self._poisson(rng, rate, end, action)

            self.rt.at(t, tick)

    def _random_up(self, fault: Fault, rng: random.Random, op: str, operation: Callable[[str], None]) -> None:
        pool = [x for x in self._up() if x not in self.join_seeds]
        if op == "leave":  # a node still lingering after its leave is up, but cannot leave again
            pool = [x for x in pool if not self.rt.has_left(x)]
        if pool:
            name = rng.choice(pool)
            self.rt.record_fault(op, [name])
            self._note(fault, op, [name])
            operation(name)

    def _join_new(self, fault: Fault) -> None:
        self._new_nodes += 1
        name = f"j{self._new_nodes}"
        self.rt.record_fault("join", [name])
        self._note(fault, "join", [name])
        self.rt.add_node(name)
        self.rt.boot(name, how="join")
