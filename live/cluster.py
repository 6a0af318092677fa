"""A live cluster on loopback: N hosts on one event loop, the fault shim, and the fault operations.

`LiveCluster` is the live runtime's counterpart of the simulator's `Simulation`: it boots nodes
on real QUIC sockets (each with a certificate from a throwaway cluster CA), applies fault
operations at the instants asked for (`at`, in seconds since the cluster was made), and turns
everything observable into the same trace records, handed to `sink` (built by the constructors
of `protocol/trace_schema.py`): `state` (a node's notification), `host` (ground truth about a
process), `impair` (a fault starts or stops affecting a node), `fault` (the operation as asked).
Time `t` is real seconds on the loop's monotonic clock since the cluster was made.

The operations and their names are the fault primitives both runtimes implement;
`SUPPORTED_OPERATIONS` lists them, and `require(...)` refuses up front anything else, so a
scenario never runs with a fault silently missing. Nothing here chooses which nodes a fault
hits: the caller names them.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterable
from typing import Any

from swimlab.protocol import trace_schema
from swimlab.protocol.config import Config
from swimlab.protocol.driver import Driver
from swimlab.protocol.events import Event
from swimlab.protocol.faults import ALL_CAPABILITIES, LEAVE_LINGER_S, Capability, Cause
from swimlab.protocol.lifecycle import Lifecycle
from swimlab.protocol.messages import MemberState, NodeId, Update
from swimlab.protocol.node import Node
from swimlab.protocol.streams import stream

from .clock import LiveClock
from .credentials import ClusterCA
from .host import DriverFactory, LiveHost, NodeFactory
from .lag import LagMeter
from .network import LatencyFn, LiveNetwork
from .udp import Address, new_event_loop

Sink = trace_schema.TraceSink


SUPPORTED_OPERATIONS = frozenset(
    {
        "add_node",
        "add_host",
        "boot",
        "boot_formed",
        "crash",
        "restart",
        "leave",
        "pause",
        "set_slow",
        "clock_step",
        "set_drift",
        "partition",
        "heal",
        "set_ingress_drop",
        "set_loss",
        "set_default_loss",
        "set_link_loss",
        "set_extra_delay",
        "set_jitter",
        "set_duplicate",
        "set_reorder",
    }
)
NETWORK_OPTIONS = frozenset(
    {"loss", "jitter_s", "duplicate", "reorder", "reorder_delay_s", "bandwidth_bytes_per_s", "latency"}
)


class UnsupportedFault(ValueError):
    """The live runtime cannot apply this operation or network option."""


def require(operations: Iterable[str]) -> None:
    """Raise `UnsupportedFault` naming every operation the live runtime cannot apply."""
    missing = sorted(set(operations) - SUPPORTED_OPERATIONS)
    if missing:
        raise UnsupportedFault(
            f"the live runtime cannot apply {missing}; it supports {sorted(SUPPORTED_OPERATIONS)}"
        )


class LiveCluster:
    """The live runtime (scenarios/runtime.py's `Runtime` interface, names and records alike).

    Time zero is when the cluster was made, or, made with `prepare=True` (as the scenario
    runner makes it), when the first `run` starts: operations scheduled (`at`) before it are
    queued, and that `run` first connects every pair of the nodes added so far
    (`connect_all`: a formed start of 32 nodes otherwise asks for all 496 handshakes, ~6 ms of CPU
    each, in its first probe rounds, and a joining one within its join window; the loop then lags
    by seconds and the run measures the loop), freezes the set-up heap (`freeze_heap`: full
    collections while connecting took 80-450 ms each at N = 16-32 on this machine; later ones
    skip that heap), then starts the clock and schedules the queued operations, so a scenario's
    fault times are measured from the start, as in the simulator,
    which has no handshakes at all. Nodes added later (joins) handshake as they go.
    """

    name = "live"
    capabilities: frozenset[Capability] = ALL_CAPABILITIES
    records_messages = False  # no per-message trace records (send / deliver / drop)

    def __init__(
        self,
        seed: int,
        config: Config,
        sink: Sink | None = None,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        host_ip: str = "127.0.0.1",
        join_seeds: Iterable[NodeId] = (),
        node_factory: NodeFactory = Node,
        driver_factory: DriverFactory = Driver,
        endpoint_options: dict[str, Any] | None = None,
        latency: LatencyFn | None = None,
        prepare: bool = False,
        **network_options: Any,
    ) -> None:
        """`prepare`: queue what `at` schedules until the first `run`, which connects the nodes
        first (see the class docstring; the scenario runner asks for it). Without it time zero
        is now and `at` schedules at once."""
        unknown = sorted(set(network_options) - NETWORK_OPTIONS)
        if unknown:
            raise UnsupportedFault(
                f"the live runtime has no network option(s) {unknown}; it has {sorted(NETWORK_OPTIONS)}"
            )
        self.seed = seed
        self.config = config
        self.sink = sink or (lambda record: None)
        self._own_loop = loop is None
        self.loop = loop or new_event_loop()
        self.host_ip = host_ip
        self.join_seeds = tuple(join_seeds)
        self.node_factory = node_factory
        self.driver_factory = driver_factory  # both read at add_host: a manager's (runner.attach_manager)
        self.endpoint_options = endpoint_options or {}
        self.ca = ClusterCA(f"swimlab throwaway CA {seed}")
        self.lag = LagMeter()
        self.network = LiveNetwork(self.loop, stream(seed, "net"), latency=latency, **network_options)
        self.hosts: dict[NodeId, LiveHost] = {}
        self.address_book: dict[NodeId, Address] = {}
        self.state_records = 0
        self.t0 = self.loop.time()
        self.connected_up_front = 0  # pairs `start` connected before time zero
        self._froze = False
        self._queued: list[tuple[float, Callable[..., Any], tuple[Any, ...]]] | None = [] if prepare else None

    # Scheduling ---------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.loop.time() - self.t0

    def at(self, when: float, operation: Callable[..., Any], *args: Any) -> None:
        """Run `operation(*args)` at `when` seconds after time zero (queued until `run` starts
        the clock, if called before the first `run`)."""
        if self._queued is not None:
            self._queued.append((when, operation, args))
            return
        self.loop.call_at(self.t0 + when, operation, *args)

    def start(self) -> None:
        """Connect what a queued formed boot needs, then start the clock and the queued operations
        (the first `run` calls this; without queued operations time zero stays where it was)."""
        queued, self._queued = self._queued, None
        if not queued:
            return
        if len(self.hosts) > 1:
            self.connected_up_front = self.connect_all(list(self.hosts))
        self.freeze_heap()  # undone by `close`
        self._froze = True
        self.t0 = self.loop.time()
        for when, operation, args in queued:
            self.loop.call_at(self.t0 + when, operation, *args)

    def run(
        self, until: float, on_progress: Callable[[float], None] | None = None, step_s: float = 1.0
    ) -> None:
        """Run the loop until `until` seconds after time zero, calling `on_progress(now)` every `step_s`."""
        if self._queued is not None:
            self.start()
        while (left := until - self.now) > 0:
            self.loop.run_until_complete(asyncio.sleep(min(left, step_s)))
            if on_progress is not None:
                on_progress(min(self.now, until))

    def run_until(self, done: Callable[[], bool], timeout_s: float, poll_s: float = 0.02) -> float | None:
        """Run until `done()`; the seconds it took, or None after `timeout_s`."""
        start = self.now
        while not done():
            if self.now - start > timeout_s:
                return None
            self.loop.run_until_complete(asyncio.sleep(poll_s))
        return self.now - start

    # Records (built by protocol.trace_schema, as the simulator's are) --------------------
    def _host(self, name: NodeId, status: trace_schema.HostStatus, how: trace_schema.HostHow) -> None:
        self.sink(trace_schema.host(self.now, name, status, how))

    def _on_event(self, name: NodeId, event: Event) -> None:
        self.state_records += 1
        self.sink(trace_schema.notification(self.now, name, event))

    def record_fault(self, op: str, nodes: Iterable[NodeId], **params: Any) -> None:
        """Record a fault operation as the scenario named it (before its effects)."""
        self.sink(trace_schema.fault(self.now, op, list(nodes), **params))

    def impair(self, names: Iterable[NodeId], cause: trace_schema.ImpairCause, on: bool) -> None:
        for name in names:
            self.sink(trace_schema.impair(self.now, name, cause, on))

    def connect_all(self, names: Iterable[NodeId], wave: int = 8, timeout_s: float = 60.0) -> int:
        """Open one verified connection per pair of `names`, `wave` handshakes at a time; the
        number made. A formed start of many nodes otherwise asks for every handshake in its
        first probe rounds, more than one loop completes within the handshake timeout."""
        hosts = [self.hosts[name] for name in names]
        pairs = [(a, b) for i, a in enumerate(hosts) for b in hosts[i + 1 :]]
        for start in range(0, len(pairs), wave):
            batch = pairs[start : start + wave]

            def done(batch: list[tuple[LiveHost, LiveHost]] = batch) -> bool:
                missing = [(a, b) for a, b in batch if a.endpoint.pool.entry(b.address) is None]
                for a, b in missing:
                    a.endpoint.peers.dial(b.address)  # again, if a handshake was lost
                return not missing

            self.run_until(done, timeout_s)
        return sum(1 for a, b in pairs if a.endpoint.pool.entry(b.address) is not None)

    def freeze_heap(self) -> int:
        """Exempt every object alive now from the cyclic garbage collector (`gc.freeze`); the
        number frozen. Call it once the cluster is set up: 64 nodes with all pairs connected hold
        ~1.1 M tracked objects, and a full collection of them stalled the loop 0.5 s, seen as a
        p99 timer lag of 0.36 s (0.02 s frozen). Process-wide, hence explicit. Cycles among
        frozen objects that die later are not reclaimed (a crashed host's old connections)."""
        gc.collect()
        gc.freeze()
        return gc.get_freeze_count()

    # Process life -------------------------------------------------------------------------
    def node_names(self) -> list[NodeId]:
        return list(self.hosts)

    def is_up(self, name: NodeId) -> bool:
        return self.hosts[name].up

    def add_node(self, name: NodeId, *, offset_s: float = 0.0, drift_ppm: float = 0.0) -> None:
        self.add_host(name, offset_s, drift_ppm)

    def add_host(self, name: NodeId, offset_s: float = 0.0, drift_ppm: float = 0.0) -> LiveHost:
        if name in self.hosts:
            raise ValueError(f"host {name!r} already exists")
        clock = LiveClock(self.loop, offset_s, drift_ppm, self.lag)
        host = LiveHost(
            name,
            self.loop,
            (self.host_ip, 0),
            self.ca.issue(self.host_ip),
            self.config,
            clock,
            network=self.network,
            address_book=self.address_book,
            on_event=self._on_event,
            node_rng=lambda node, life: stream(self.seed, "node", node, life),  # the simulator's streams
            node_factory=self.node_factory,
            driver_factory=self.driver_factory,
            endpoint_options=self.endpoint_options,
        )
        self.hosts[name] = host
        self.address_book[name] = host.address
        self.network.names[host.address] = name
        return host

    def boot_formed(self, names: Iterable[NodeId]) -> None:
        """Start every named node already knowing all of them alive: a formed cluster, no joins."""
        names = tuple(names)
        records = tuple(Update(MemberState.ALIVE, name, 0, name) for name in names)
        for name in names:
            self.boot(name, how="formed", known=records)

    def boot(self, name: NodeId, how: trace_schema.HostHow = "boot", known: tuple[Update, ...] = ()) -> None:
        host = self.hosts[name]
        self._host(name, "up", how)
        host.boot(known, self.join_seeds)

    def crash(self, name: NodeId) -> None:
        host = self.hosts[name]
        if not host.up:
            return
        host.crash()
        self._host(name, "down", "crash")

    def has_left(self, name: NodeId) -> bool:
        node = self.hosts[name].node
        return getattr(node, "lifecycle", None) is Lifecycle.LEFT  # a Node, or a manager wrapping one

    def restart(self, name: NodeId, wiped: bool) -> None:
        """Bring a crashed host back at the same address: a new Node (wiped) or the old one resumed."""
        host = self.hosts[name]
        if not wiped and self.has_left(name):
            raise ValueError(
                f"restart of {name} (state kept): it left the cluster; a kept restart needs a crashed node"
            )
        if host.up:
            self.crash(name)
        how: trace_schema.HostHow = "restart-wiped" if wiped or host.driver is None else "restart-kept"
        self._host(name, "up", how)
        host.restart(wiped, self.join_seeds)

    def leave(self, name: NodeId) -> None:
        host = self.hosts[name]
        if not host.up or self.has_left(name):  # down, or leaving already: nothing to do
            return
        self._host(name, "left", "leave")
        host.leave()
        self.loop.call_later(LEAVE_LINGER_S, self._exit, name, host.epoch)

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
        self.loop.call_later(duration_s, self._unpause, name, host.epoch)

    def _unpause(self, name: NodeId, epoch: int) -> None:
        host = self.hosts[name]
        if host.epoch != epoch:
            return
        self.impair([name], Cause.PAUSE, False)
        host.unpause()

    def set_slow(self, names: Iterable[NodeId], delay_s: float) -> None:
        names = list(names)
        for name in names:
            self.hosts[name].slow_s = delay_s
        self.impair(names, Cause.SLOW, delay_s > 0)

    # Clocks -------------------------------------------------------------------------------
    def clock_step(self, name: NodeId, seconds: float) -> None:
        self.hosts[name].clock.step(seconds)
        self.impair([name], Cause.CLOCK, True)  # a step is an instant: on, then off
        self.impair([name], Cause.CLOCK, False)

    def set_drift(self, name: NodeId, drift_ppm: float) -> None:
        self.hosts[name].clock.set_drift(drift_ppm)
        self.impair([name], Cause.CLOCK, drift_ppm != 0)

    # Network faults -----------------------------------------------------------------------
    def partition(self, grudge: dict[NodeId, frozenset[NodeId]]) -> None:
        """Replace the current cut with `grudge` (dst -> sources it drops)."""
        self.heal()
        self.network.grudges = {dst: srcs for dst, srcs in grudge.items() if srcs}
        self.sink(trace_schema.grudge(self.now, self.network.grudges))
        self.impair(sorted(self._partitioned()), Cause.PARTITION, True)

    def heal(self) -> None:
        if not self.network.grudges:
            return
        touched = sorted(self._partitioned())
        self.network.grudges = {}
        self.sink(trace_schema.grudge(self.now, {}))
        self.impair(touched, Cause.PARTITION, False)

    def _partitioned(self) -> set[NodeId]:
        touched: set[NodeId] = set()
        for dst, srcs in self.network.grudges.items():
            touched.add(dst)
            touched.update(srcs)
        return touched

    def set_ingress_drop(self, names: Iterable[NodeId], on: bool) -> None:
        names = list(names)
        for name in names:
            if on:
                self.network.blackholed.add(name)
            else:
                self.network.blackholed.discard(name)
        self.impair(names, Cause.INGRESS, on)

    def set_loss(self, names: Iterable[NodeId], rate: float, direction: str = "both") -> None:
        if direction not in ("both", "ingress", "egress"):
            raise ValueError(f"loss direction: expected both, ingress or egress, got {direction!r}")
        names = list(names)
        net = self.network
        for name in names:
            for table, applies in (
                (net.ingress_loss, direction in ("both", "ingress")),
                (net.egress_loss, direction in ("both", "egress")),
            ):
                if applies:
                    _set(table, name, rate)
        net.refresh()
        self.impair(names, Cause.LOSS, rate > 0)

    def set_default_loss(self, rate: float) -> None:
        """Uniform loss on every link."""
        self.network.loss = rate
        self.network.refresh()

    def set_link_loss(self, links: Iterable[tuple[NodeId, NodeId]], rate: float) -> None:
        links = list(links)
        for link in links:
            _set(self.network.link_loss, link, rate)
        self.network.refresh()
        self.impair(sorted({n for link in links for n in link}), Cause.LOSS, rate > 0)

    def set_extra_delay(self, names: Iterable[NodeId], delay_s: float) -> None:
        names = list(names)
        for name in names:
            _set(self.network.extra_delay_s, name, delay_s)
        self.network.refresh()
        self.impair(names, Cause.LATENCY, delay_s > 0)

    def set_jitter(self, jitter_s: float) -> None:
        self.network.jitter_s = jitter_s
        self.network.refresh()

    def set_duplicate(self, names: Iterable[NodeId], rate: float) -> None:
        names = list(names)
        for name in names:
            _set(self.network.node_duplicate, name, rate)
        self.network.refresh()
        self.impair(names, Cause.DUPLICATE, rate > 0)

    def set_reorder(self, rate: float, delay_s: float) -> None:
        """With probability `rate`, a packet is held up to `delay_s` more (later ones overtake it)."""
        self.network.reorder = rate
        self.network.reorder_delay_s = delay_s
        self.network.refresh()

    # Summary ------------------------------------------------------------------------------
    def counters(self) -> dict[str, Any]:
        drivers = [d for host in self.hosts.values() for d in host.drivers]
        net = self.network
        return {
            "events": len(self.lag) + sum(d.stats.messages_received for d in drivers),
            "messages_sent": sum(d.stats.messages_sent for d in drivers),
            "bytes_sent": sum(d.stats.bytes_sent for d in drivers),
            "messages_delivered": sum(d.stats.messages_received for d in drivers),
            "messages_dropped": dict(sorted(net.dropped.items())),  # packets, by reason
            "sent_by_node": {
                name: [
                    sum(d.stats.messages_sent for d in host.drivers),
                    sum(d.stats.bytes_sent for d in host.drivers),
                ]
                for name, host in self.hosts.items()
            },
        }

    def loop_lag(self, since_s: float = 0.0) -> dict[str, float | int]:
        """Timer lag (`LagMeter.summary`) of the firings from `since_s` seconds after time zero."""
        return self.lag.summary(since=self.t0 + since_s)

    def close(self) -> None:
        """Crash every host (sockets closed) and close the loop if this cluster made it."""
        for host in self.hosts.values():
            if not host.endpoint.closed:
                host.crash()
        self.loop.run_until_complete(asyncio.sleep(0))
        if self._own_loop:
            self.loop.close()
        if self._froze:  # the frozen heap goes back to the collector (a test process lives on)
            gc.unfreeze()
            self._froze = False


def _set(table: dict[Any, float], key: Any, value: float) -> None:
    if value:
        table[key] = value
    else:
        table.pop(key, None)
