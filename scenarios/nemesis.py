"""The fault timeline: turns a scenario's `[[faults]]` into timed operations on a runtime.

Which nodes a fault hits is decided here, when it fires, from a stream seeded by the run seed
and the fault's index (so adding a fault never changes another's choice). Random picks skip the
seed nodes unless `include_seeds` (a cluster with no seed left cannot take restarted nodes back,
which is a different experiment). The runtime object provides the operations (`crash`,
`restart`, `partition`, ...) - the simulator's `Simulation` today.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from swimlab.protocol.streams import stream

from . import grudges
from .loader import Scenario


def _stream(seed: int, *parts: object) -> random.Random:
    return stream(seed, "nemesis", *parts)


class Nemesis:
    def __init__(self, scenario: Scenario, runtime: Any, seed: int, join_seeds: tuple[str, ...]) -> None:
        self.scenario = scenario
        self.rt = runtime
        self.seed = seed
        self.join_seeds = set(join_seeds)
        self._new_nodes = 0

    def schedule(self) -> None:
        for index, fault in enumerate(self.scenario.faults):
            self.rt.at(fault["at_s"], self._fire, index, fault)

    # Selection ----------------------------------------------------------------------------------
    def _up(self) -> list[str]:
        return [name for name, host in self.rt.hosts.items() if host.up]

    def _down(self) -> list[str]:
        return [name for name, host in self.rt.hosts.items() if not host.up]

    def _select(self, fault: dict[str, Any], rng: random.Random, pool: list[str] | None = None) -> list[str]:
        if fault.get("nodes") is not None:
            return list(fault["nodes"])
        pool = self._up() if pool is None else pool
        if not fault.get("include_seeds"):
            pool = [x for x in pool if x not in self.join_seeds] or pool
        if fault.get("count") is not None:
            k = fault["count"]
        elif fault.get("fraction") is not None:
            k = max(1, round(fault["fraction"] * len(self.rt.hosts)))
        else:
            return pool
        return sorted(rng.sample(pool, min(k, len(pool))), key=pool.index)

    # Operations ---------------------------------------------------------------------------------
    def _fire(self, index: int, fault: dict[str, Any]) -> None:
        rng = _stream(self.seed, index)
        op = fault["op"]
        if op == "flip_flop":
            self._flip_flop(index, fault, rng)
            return
        if op == "churn":
            self._churn(index, fault, rng)
            return
        names = self._apply(fault, rng, index)
        duration = fault.get("duration_s")
        if duration is not None and op != "pause":
            self.rt.at(self.rt.now + duration, self._revert, fault, names)

    def _apply(
        self, fault: dict[str, Any], rng: random.Random, index: int, names: list[str] | None = None
    ) -> list[str]:
        """Apply one operation; return the nodes it hit (reused to revert or re-apply it)."""
        rt = self.rt
        op = fault["op"]
        params = {
            k: v
            for k, v in fault.items()
            if k not in ("op", "at_s", "nodes", "count", "fraction", "include_seeds", "groups", "fault")
        }
        if op == "restart":
            names = names or self._select(fault, rng, self._down())
        elif op in ("partition", "heal", "join"):
            names = names or []
        elif op == "loss" and all(fault.get(k) is None for k in ("nodes", "count", "fraction")):
            names = []  # uniform loss on every link
        else:
            names = names or self._select(fault, rng)
        rt.fault(op, nodes=names, **params)
        if op == "crash":
            for name in names:
                rt.crash(name)
        elif op == "restart":
            for name in names:
                rt.restart(name, wiped=fault["state"] == "wiped")
        elif op == "mass_restart":
            for name in names:
                rt.crash(name)
            later = rt.now + fault["downtime_s"]
            for name in names:
                rt.at(later, rt.restart, name, fault["state"] == "wiped")
        elif op == "leave":
            for name in names:
                rt.leave(name)
        elif op == "join":
            for _ in range(fault["new_nodes"]):
                self._join_new()
        elif op == "pause":
            for name in names:
                rt.pause(name, fault["duration_s"])
        elif op == "slow":
            rt.set_slow(names, fault["delay_s"])
        elif op == "partition":
            grudge = grudges.shape(
                fault["shape"],
                self._up(),
                rng,
                one_way=fault["one_way"],
                groups=fault.get("groups"),
                chosen=fault.get("nodes") or (),
            )
            rt.partition(grudge)
        elif op == "heal":
            rt.heal()
        elif op == "loss":
            if names:
                rt.set_loss(names, fault["rate"], fault["direction"])
            else:
                rt.network.loss = fault["rate"]
        elif op == "latency":
            rt.set_extra_delay(names, fault["add_ms"] / 1000.0)
        elif op == "duplicate":
            rt.set_duplicate(names, fault["rate"])
        elif op == "ingress_drop":
            rt.set_ingress_drop(names, True)
        elif op == "clock":
            for name in names:
                if fault["drift_ppm"] is not None:
                    rt.set_drift(name, fault["drift_ppm"])
                if fault["step_s"]:
                    rt.clock_step(name, fault["step_s"])
        return names

    def _revert(self, fault: dict[str, Any], names: list[str]) -> None:
        rt = self.rt
        op = fault["op"]
        rt.fault("heal" if op == "partition" else f"{op}_off", nodes=names)
        if op == "partition":
            rt.heal()
        elif op == "loss":
            if names:
                rt.set_loss(names, 0.0, fault["direction"])
            else:
                rt.network.loss = self.scenario.network["loss"]
        elif op == "latency":
            rt.set_extra_delay(names, 0.0)
        elif op == "duplicate":
            rt.set_duplicate(names, 0.0)
        elif op == "ingress_drop":
            rt.set_ingress_drop(names, False)
        elif op == "slow":
            rt.set_slow(names, 0.0)

    def _flip_flop(self, index: int, fault: dict[str, Any], rng: random.Random) -> None:
        inner = fault["fault"]
        period = fault["period_s"]
        end = self.rt.now + fault["duration_s"]
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

    def _churn(self, index: int, fault: dict[str, Any], rng: random.Random) -> None:
        """Independent Poisson processes of joins, graceful leaves and crashes."""
        end = self.rt.now + fault["duration_s"]
        self.rt.fault("churn", nodes=[], **{k: v for k, v in fault.items() if k not in ("op", "at_s")})
        actions: list[tuple[float, Callable[[], None]]] = [
            (fault["join_rate_per_s"], self._join_new),
            (fault["leave_rate_per_s"], lambda: self._random_up(rng, self.rt.leave)),
            (fault["crash_rate_per_s"], lambda: self._random_up(rng, self.rt.crash)),
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

    def _random_up(self, rng: random.Random, operation: Callable[[str], None]) -> None:
        pool = [x for x in self._up() if x not in self.join_seeds]
        if pool:
            name = rng.choice(pool)
            self.rt.fault(operation.__name__, nodes=[name])
            operation(name)

    def _join_new(self) -> None:
        self._new_nodes += 1
        name = f"j{self._new_nodes}"
        self.rt.fault("join", nodes=[name])
        self.rt.add_host(name)
        self.rt.boot(name, how="join")
