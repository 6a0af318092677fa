"""The fault timeline: turns a scenario's `[[faults]]` into timed operations on a runtime.

Which nodes a fault hits is decided here, when it fires, from a stream seeded by the run seed
and the fault's index (so adding a fault never changes another's choice). Random picks skip the
seed nodes unless `include_seeds` (a cluster with no seed left cannot take restarted nodes back,
which is a different experiment). Everything happens through the runtime interface
(`scenarios/runtime.py`), so the same timeline drives the simulator and the live runtime.
"""

from __future__ import annotations

import random
from collections.abc import Callable

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

    def schedule(self) -> None:
        for index, fault in enumerate(self.scenario.faults):
            self.rt.at(fault.at_s, self._fire, index, fault)

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
        if not select.include_seeds:
            pool = [x for x in pool if x not in self.join_seeds] or pool
        if select.count is not None:
            k = select.count
        elif select.fraction is not None:
            k = max(1, round(select.fraction * len(self.rt.node_names())))
        else:
            return pool
        return sorted(rng.sample(pool, min(k, len(pool))), key=pool.index)

    # Operations ---------------------------------------------------------------------------------
    def _fire(self, index: int, fault: Fault) -> None:
        rng = _stream(self.seed, index)
        p = fault.params
        if isinstance(p, FlipFlop):
            self._flip_flop(index, fault, p, rng)
            return
        if isinstance(p, Churn):
            self._churn(p, rng)
            return
        names = self._apply(fault, rng, index)
        if isinstance(p, Toggling) and p.duration_s is not None:
            self.rt.at(self.rt.now + p.duration_s, self._revert, fault, names)

    def _apply(
        self, fault: Fault, rng: random.Random, index: int, names: list[str] | None = None
    ) -> list[str]:
        """Apply one operation; return the nodes it hit (reused to revert or re-apply it)."""
        rt = self.rt
        p = fault.params
        targets = fault.spec.targets
        if targets is Targets.DOWN:
            names = names or self._select(fault, rng, self._down())
        elif targets in (Targets.SHAPE, Targets.NONE):
            names = names or []
        elif targets is Targets.UP_OR_EVERY_LINK and not fault.select.given():
            names = []  # uniform loss on every link
        else:
            names = names or self._select(fault, rng)
        rt.record_fault(fault.op, names, **recorded(p))
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
        elif isinstance(p, Leave):
            for name in names:
                rt.leave(name)
        elif isinstance(p, Join):
            for _ in range(p.new_nodes):
                self._join_new()
        elif isinstance(p, Pause):
            for name in names:
                rt.pause(name, p.duration_s)
        elif isinstance(p, Slow):
            rt.set_slow(names, p.delay_s)
        elif isinstance(p, Partition):
            grudge = grudges.shape(
                p.shape, self._up(), rng, one_way=p.one_way, groups=p.groups, chosen=fault.select.nodes or ()
            )
            rt.partition(grudge)
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
        return names

    def _revert(self, fault: Fault, names: list[str]) -> None:
        rt = self.rt
        p = fault.params
        assert fault.spec.revert is not None, fault.op  # only toggling faults are reverted
        rt.record_fault(fault.spec.revert, names)
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

    def _churn(self, p: Churn, rng: random.Random) -> None:
        """Independent Poisson processes of joins, graceful leaves and crashes."""
        end = self.rt.now + p.duration_s
        self.rt.record_fault("churn", [], **recorded(p))
        actions: list[tuple[float, Callable[[], None]]] = [
            (p.join_rate_per_s, self._join_new),
            (p.leave_rate_per_s, lambda: self._random_up(rng, "leave", self.rt.leave)),
            (p.crash_rate_per_s, lambda: self._random_up(rng, "crash", self.rt.crash)),
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

    def _random_up(self, rng: random.Random, op: str, operation: Callable[[str], None]) -> None:
        pool = [x for x in self._up() if x not in self.join_seeds]
        if pool:
            name = rng.choice(pool)
            self.rt.record_fault(op, [name])
            operation(name)

    def _join_new(self) -> None:
        self._new_nodes += 1
        name = f"j{self._new_nodes}"
        self.rt.record_fault("join", [name])
        self.rt.add_node(name)
        self.rt.boot(name, how="join")
