"""A simulated cluster: the kernel, the hosts, the network, and the fault operations on them.

`Simulation` implements the runtime interface of `swimlab.scenarios.runtime` (its docstring is
the contract: what each operation does, when, and what it records) with every capability of
the fault table. It boots nodes, applies fault operations at the instants the scenario names
(`at`), and turns everything observable into trace records handed to `sink` (a callable taking
one dict whose key order is the trace order; the record kinds are defined in
`swimlab.protocol.trace_schema`):

- `state`: a membership notification a node emitted (node, event, member, incarnation, accuser);
- `host`: ground truth about a process (up / down / left) and how it got there;
- `impair`: ground truth that a fault started or stopped affecting a node (partition, pause,
  loss, slowness, latency, deafness, duplication, clock), so reports can tell false positives
  from deserved suspicion;
- `grudge`: the partition in force (who drops whose packets), written by `partition` and `heal`;
- `fault`: the fault operation itself, as the scenario asked for it;
- `send` / `deliver` / `drop`: per message, only when `trace_messages` (counters are always kept).

Nothing here chooses *which* nodes a fault hits: the scenario layer does, from its own seeded
stream, and calls these operations with explicit names.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from swimlab.protocol import trace_schema
from swimlab.protocol.config import Config
from swimlab.protocol.events import Event
from swimlab.protocol.faults import ALL_CAPABILITIES, LEAVE_LINGER_S, Capability, Cause, Direction
from swimlab.protocol.lifecycle import Lifecycle
from swimlab.protocol.members import Roster
from swimlab.protocol.messages import MemberState, NodeId, Update

from .host import Host
from .kernel import Kernel
from .latency import Constant, LatencyModel
from .network import Network, Sink
from .rng import stream

NodeFactory = Callable[[NodeId, Config, random.Random], Any]
DriverFactory = Callable[..., Any]


def _default_node(name: NodeId, config: Config, rng: random.Random) -> Any:
    from swimlab.protocol.node import Node

    return Node(name, config, rng)


def _default_driver(*args: Any) -> Any:
    from swimlab.protocol.driver import Driver

    return Driver(*args)


class Simulation:
    name = "sim"
    capabilities: frozenset[Capability] = ALL_CAPABILITIES

    def __init__(
        self,
        seed: int,
        config: Config,
        sink: Sink,
        *,
        latency: LatencyModel | None = None,
        join_seeds: Iterable[NodeId] = (),
        node_factory: NodeFactory = _default_node,
        driver_factory: DriverFactory = _default_driver,
        track_timers: bool = False,
        **network_options: Any,
    ) -> None:
        """`track_timers`: every host's clock re-arms pending timers when stepped or re-drifted
        (costs a dict entry per timer; the runner turns it on for scenarios with clock faults)."""
        self.seed = seed
        self.config = config
        self.sink = sink
        self.kernel = Kernel(stream(seed, "kernel"))
        self.hosts: dict[NodeId, Host] = {}
        self.network = Network(self.kernel, self.hosts, latency or Constant(0.001), sink, **network_options)
        self.join_seeds = tuple(join_seeds)
        self.node_factory = node_factory
        self.driver_factory = driver_factory
        self.track_timers = track_timers
        self.state_records = 0
        # Every Driver each node has run (a wiped restart builds a new one): their send counters,
        # summed, are the per-node load (Rapid's Table 2) without per-message trace records.
        self._drivers: dict[NodeId, list[Any]] = {}

    # Scheduling ---------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.kernel.now

    def at(self, when: float, operation: Callable[..., None], *args: Any) -> None:
        """Run a fault operation at global time `when`, ahead of same-instant traffic."""
        self.kernel.call_urgent(when, operation, *args)

    def run(
        self, until: float, on_progress: Callable[[float], None] | None = None, step_s: float = 1.0
    ) -> None:
        """Advance to global time `until`, calling `on_progress(now)` every `step_s`."""
        kernel = self.kernel
        if on_progress is None:
            kernel.run(until=until)
            return
        t = kernel.now
        while t < until:
            t = min(until, t + step_s)
            kernel.run(until=t)
            on_progress(t)

    # Records ------------------------------------------------------------------------------------
    def _host_record(self, name: NodeId, status: trace_schema.HostStatus, how: trace_schema.HostHow) -> None:
        self.sink(trace_schema.host(self.kernel.now, name, status, how))

    def _event_sink(self, name: NodeId) -> Callable[[Event], None]:
        sink = self.sink
        kernel = self.kernel
        notification = trace_schema.notification

        def on_event(event: Event) -> None:
            self.state_records += 1
            sink(notification(kernel.now, name, event))

        return on_event

    def record_fault(self, op: str, nodes: Iterable[NodeId], **params: Any) -> None:
        """Record a fault operation as the scenario named it (the nemesis calls this)."""
        self.sink(trace_schema.fault(self.kernel.now, op, list(nodes), **params))

    def impair(self, names: Iterable[NodeId], cause: Cause, on: bool) -> None:
        recorded = cast(
            trace_schema.ImpairCause, cause.value
        )  # the fault table's cause, as the trace names it
        for name in names:
            self.sink(trace_schema.impair(self.kernel.now, name, recorded, on))

    # Nodes --------------------------------------------------------------------------------------
    def node_names(self) -> list[NodeId]:
        return list(self.hosts)

    def is_up(self, name: NodeId) -> bool:
        return self.hosts[name].up

    def has_left(self, name: NodeId) -> bool:
        node = self.hosts[name].node
        return getattr(node, "lifecycle", None) is Lifecycle.LEFT  # a Node, or a manager wrapping one

    # Process life -------------------------------------------------------------------------------
    def add_node(self, name: NodeId, *, offset_s: float = 0.0, drift_ppm: float = 0.0) -> None:
        self.add_host(name, offset_s, drift_ppm, self.track_timers)

    def add_host(
        self,
        name: NodeId,
        offset_s: float = 0.0,
        drift_ppm: float = 0.0,
        track_timers: bool = False,
    ) -> Host:
        if name in self.hosts:
            raise ValueError(f"host {name!r} already exists")
        host = Host(
            name,
            self.kernel,
            self.network.send,
            stream(self.seed, "net", name),
            offset_s,
            drift_ppm,
            track_timers,
            needs_payload=self.network.full_decode,
        )
        self.hosts[name] = host
        place = getattr(self.network.latency, "place", None)
        if place is not None:
            place(name)
        return host

    def boot_formed(self, names: Iterable[NodeId]) -> None:
        """Start every named node already knowing all of them alive: a formed cluster, no joins.

        One `Roster` of alive records is shared by every view until that view first changes.
        """
        names = tuple(names)
        roster = Roster(Update(MemberState.ALIVE, name, 0, name) for name in names)
        for name in names:
            self.boot(name, how="formed", known=roster)

    def boot(
        self, name: NodeId, how: trace_schema.HostHow = "boot", known: tuple[Update, ...] | Roster = ()
    ) -> None:
        """Start a fresh Node on host `name` and join it through the seeds (other than itself)."""
        host = self.hosts[name]
        host.lives += 1
        host.node = self.node_factory(name, self.config, stream(self.seed, "node", name, host.lives))
        host.driver = self.driver_factory(host.node, host, host.clock, self._event_sink(name))
        self._drivers.setdefault(name, []).append(host.driver)
        host.up = True
        self._host_record(name, "up", how)
        host.driver.start(known)
        seeds = tuple(s for s in self.join_seeds if s != name)
        if seeds and not known:
            host.driver.join(seeds)

    def crash(self, name: NodeId) -> None:
        host = self.hosts[name]
        if not host.up:
            return
        host.crash()
        self._host_record(name, "down", "crash")

    def restart(self, name: NodeId, wiped: bool) -> None:
        """Bring a crashed host back: a new Node (wiped) or the old one recovered (kept: `Node.recover`)."""
        host = self.hosts[name]
        if not wiped and self.has_left(name):
            raise ValueError(
                f"restart of {name} (state kept): it left the cluster; a kept restart needs a crashed node"
            )
        if host.up:
            host.crash()
            self._host_record(name, "down", "crash")
        if wiped or host.node is None:
            self.boot(name, how="restart-wiped")
            return
        host.up = True
        self._host_record(name, "up", "restart-kept")
        host.driver.recover()

    def leave(self, name: NodeId) -> None:
        host = self.hosts[name]
        if not host.up or self.has_left(name):  # down, or leaving already: nothing to do
            return
        self._host_record(name, "left", "leave")
        host.driver.leave()
        self.at(self.kernel.now + LEAVE_LINGER_S, self._exit, name, host.epoch)

    def _exit(self, name: NodeId, epoch: int) -> None:
        host = self.hosts[name]
        if host.epoch == epoch and host.up:
            host.crash()

    def pause(self, name: NodeId, duration_s: float) -> None:
        host = self.hosts[name]
        if not host.up or host.paused:
            return
        host.pause()
        self.impair([name], Cause.PAUSE, True)
        self.at(self.kernel.now + duration_s, self._unpause, name, host.epoch)

    def _unpause(self, name: NodeId, epoch: int) -> None:
        host = self.hosts[name]
        if host.epoch != epoch:
            return
        self.impair([name], Cause.PAUSE, False)
        host.resume_from_pause()

    def set_slow(self, names: Iterable[NodeId], delay_s: float) -> None:
        names = list(names)
        for name in names:
            self.hosts[name].slow_s = delay_s
        self.impair(names, Cause.SLOW, delay_s > 0)

    # Clocks -------------------------------------------------------------------------------------
    def clock_step(self, name: NodeId, seconds: float) -> None:
        self.hosts[name].clock.step(seconds)
        self.impair([name], Cause.CLOCK, True)  # a step is an instant: on, then off
        self.impair([name], Cause.CLOCK, False)

    def set_drift(self, name: NodeId, drift_ppm: float) -> None:
        self.hosts[name].clock.set_drift(drift_ppm)
        self.impair([name], Cause.CLOCK, drift_ppm != 0)

    # Network faults -----------------------------------------------------------------------------
    def partition(self, grudge: Mapping[NodeId, frozenset[NodeId]]) -> None:
        """Replace the current cut with `grudge` (dst -> sources it drops)."""
        self.heal()
        # Sets are kept as given: a shape shares one set per side, so a cut of N nodes is O(N).
        self.network.grudges = {dst: srcs for dst, srcs in grudge.items() if srcs}
        self.sink(trace_schema.grudge(self.kernel.now, self.network.grudges))
        self.impair(sorted(self._partitioned()), Cause.PARTITION, True)

    def heal(self) -> None:
        if not self.network.grudges:
            return
        touched = sorted(self._partitioned())
        self.network.grudges = {}
        self.sink(trace_schema.grudge(self.kernel.now, {}))
        self.impair(touched, Cause.PARTITION, False)

    def _partitioned(self) -> set[NodeId]:
        touched: set[NodeId] = set()
        for dst, srcs in self.network.grudges.items():
            touched.add(dst)
            touched.update(srcs)
        return touched

    def set_ingress_drop(self, names: Iterable[NodeId], on: bool) -> None:
        """The nodes drop every packet they receive (Rapid's flip-flop fault), streams included."""
        names = list(names)
        for name in names:
            if on:
                self.network.blackholed.add(name)
            else:
                self.network.blackholed.discard(name)
        self.impair(names, Cause.INGRESS, on)

    def set_default_loss(self, rate: float) -> None:
        """The loss probability on every datagram (`[network] loss`); records no impairment."""
        self.network.loss = rate

    def set_loss(self, names: Iterable[NodeId], rate: float, direction: Direction = "both") -> None:
        names = list(names)
        net = self.network
        for name in names:
            for table, applies in (
                (net.ingress_loss, direction in ("both", "ingress")),
                (net.egress_loss, direction in ("both", "egress")),
            ):
                if applies:
                    if rate:
                        table[name] = rate
                    else:
                        table.pop(name, None)
        net.refresh()
        self.impair(names, Cause.LOSS, rate > 0)

    def set_link_loss(self, links: Iterable[tuple[NodeId, NodeId]], rate: float) -> None:
        links = list(links)
        for link in links:
            if rate:
                self.network.link_loss[link] = rate
            else:
                self.network.link_loss.pop(link, None)
        self.network.refresh()
        self.impair(sorted({n for link in links for n in link}), Cause.LOSS, rate > 0)

    def set_extra_delay(self, names: Iterable[NodeId], delay_s: float) -> None:
        names = list(names)
        for name in names:
            if delay_s:
                self.network.extra_delay_s[name] = delay_s
            else:
                self.network.extra_delay_s.pop(name, None)
        self.network.refresh()
        self.impair(names, Cause.LATENCY, delay_s > 0)

    def set_duplicate(self, names: Iterable[NodeId], rate: float) -> None:
        names = list(names)
        for name in names:
            if rate:
                self.network.node_duplicate[name] = rate
            else:
                self.network.node_duplicate.pop(name, None)
        self.network.refresh()
        self.impair(names, Cause.DUPLICATE, rate > 0)

    # Summary ------------------------------------------------------------------------------------
    def counters(self) -> dict[str, Any]:
        net = self.network
        return {
            "events": self.kernel.processed,
            "messages_sent": net.sent,
            "bytes_sent": net.sent_bytes,
            "messages_delivered": net.delivered,
            "messages_dropped": dict(sorted(net.dropped.items())),
            "sent_by_node": {
                name: [
                    sum(d.stats.messages_sent for d in drivers),
                    sum(d.stats.bytes_sent for d in drivers),
                ]
                for name, drivers in sorted(self._drivers.items(), key=lambda item: (len(item[0]), item[0]))
            },
        }
