"""The runtime interface: everything the runner and the nemesis may do to a running cluster.

A runtime (the simulator's `swimlab.sim.simulation.Simulation`; the live runtime's fault shim)
implements `Runtime`; the runner and the nemesis use nothing else, so a scenario runs unchanged
on either. This docstring is the contract a new runtime implements.

Time and scheduling
- `now` is seconds since the run started, on the runtime's global clock (simulated time in the
  simulator, a monotonic clock in the live runtime). It never goes backwards.
- `at(when, operation, *args)` calls `operation(*args)` once at global time `when` (at once if
  `when` has passed), ahead of protocol traffic due at the same instant. Same-instant
  operations run in an order the runtime fixes (the simulator's is seeded, hence reproducible).

Nodes
- `node_names()` lists every node ever added, in the order added (down and departed included).
- `is_up(name)` is true while the node's process runs: booted and neither crashed nor exited.
  A paused or slow node is up; a leaving node is up until it exits.
- `has_left(name)` is true when the node's current (or last) life left the cluster gracefully
  (the nemesis's `leave`, churn, or a cluster manager downing it): its Node is in the LEFT phase
  and cannot resume. A kept restart needs a crashed node: `restart(name, wiped=False)` of a node
  that left raises `ValueError` (the nemesis never asks it; it warns and leaves the node alone).

Every fault operation below takes effect at `now` and returns at once (a pause's end is
scheduled by the runtime itself). None raises for a node in the wrong state, except a kept
restart of a node that left (above): `crash`, `leave` and `pause` of a node that is down (or,
for `pause`, already paused; for `leave`, one that already left and lingers) do nothing
and record nothing; `restart` of a node that is up crashes it first. (The nemesis never asks
for these: it leaves such nodes alone and warns, so a runtime's choice here does not change a run.) Settings
(`set_*`, `partition`) are absolute, so applying one twice is the same as once; a rate or delay
of 0 (or `on = False`) turns it off; they apply to a node whether it is up or down and persist
across its restarts. `clock_step` and `set_drift` act on the node's clock, which outlives
crashes. `add_node` of an existing name raises `ValueError`.

What is recorded (trace records handed to the runner's sink; kinds in reports/trace.py):
- `record_fault(op, nodes, **params)` writes one `fault` record {t, kind, op, nodes, params...}
  at once; the nemesis calls it before applying the operation, so the record precedes the
  effects. Nothing else writes `fault` records.
- Process life writes `host` records: `boot` (status up, how), `crash` (down, crash),
  `restart` (down+up when the node was up; up with how restart-kept / restart-wiped),
  `leave` (left, leave; the process exits `LEAVE_LINGER_S` later without another record).
- Impairments write `impair` records {node, cause, on} with a cause of
  `swimlab.protocol.faults.Cause`: `pause` (on, then off when it ends), `set_slow` (slow),
  `partition` / `heal` (partition: off for every node of the old cut, on for every node of the
  new one), `set_loss` (loss), `set_extra_delay` (latency), `set_ingress_drop` (ingress),
  `set_duplicate` (duplicate), `set_drift` (clock: on for a drift other than 0, off for 0),
  `clock_step` (clock: on, then off at the same instant). `set_default_loss` (the scenario's
  `[network] loss`, every link alike) records no impairment.
- `partition` and `heal` also write a `grudge` record, the cut now in force (a heal: none),
  before their `impair` records: reports judge reachability between two nodes from it.

Capabilities
- `capabilities` names the operations the runtime implements (`protocol.faults.Capability`).
  Each fault op of the fault table lists the capabilities it needs; `check_supported` refuses a
  scenario up front (a `ScenarioError` naming the fault and the op: exit 2), never mid-run. A
  runtime may leave out an operation it cannot apply faithfully; it must then raise
  `NotImplementedError` if called anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from swimlab.protocol.faults import Capability, Direction
from swimlab.protocol.manager.driver import Links
from swimlab.protocol.trace_schema import HostHow

from .errors import ScenarioError
from .schema import Fault, Scenario


class FaultRuntime(Protocol):
    """What the nemesis uses (see the module docstring for each call's contract)."""

    name: str  # "sim" or "live": shown in errors and result.json
    capabilities: frozenset[Capability]

    @property
    def now(self) -> float: ...

    def at(self, when: float, operation: Callable[..., None], *args: Any) -> None: ...

    def node_names(self) -> list[str]: ...

    def is_up(self, name: str) -> bool: ...

    def has_left(self, name: str) -> bool: ...

    def record_fault(self, op: str, nodes: Sequence[str], **params: Any) -> None: ...

    # Process life: a new node (not running until booted), boot, crash, restart, leave, pause.
    def add_node(self, name: str, *, offset_s: float = 0.0, drift_ppm: float = 0.0) -> None: ...

    def boot(self, name: str, how: HostHow = "boot") -> None: ...

    def crash(self, name: str) -> None: ...

    def restart(self, name: str, wiped: bool) -> None: ...

    def leave(self, name: str) -> None: ...

    def pause(self, name: str, duration_s: float) -> None: ...

    def set_slow(self, names: Sequence[str], delay_s: float) -> None: ...

    # Clocks: a forward step (seconds >= 0) of the node's local clock; a new drift rate.
    def clock_step(self, name: str, seconds: float) -> None: ...

    def set_drift(self, name: str, drift_ppm: float) -> None: ...

    # Network: grudges (dst -> the sources whose packets it drops) replace the current cut.
    def partition(self, grudge: Mapping[str, frozenset[str]]) -> None: ...

    def heal(self) -> None: ...

    def set_default_loss(self, rate: float) -> None: ...

    def set_loss(self, names: Sequence[str], rate: float, direction: Direction = "both") -> None: ...

    def set_extra_delay(self, names: Sequence[str], delay_s: float) -> None: ...

    def set_duplicate(self, names: Sequence[str], rate: float) -> None: ...

    def set_ingress_drop(self, names: Sequence[str], on: bool) -> None: ...


class Runtime(FaultRuntime, Protocol):
    """What the runner drives besides faults: boot a formed cluster, run, count; and, for a
    scenario with `[manager]`, the two factories every node added from then on is built with
    (a manager's) and the link state a lease beside a node consults."""

    node_factory: Callable[..., Any]  # (name, config, rng) -> the node; read at add_node
    driver_factory: Callable[..., Any]  # (node, transport, clock, on_event) -> its driver

    @property
    def network(self) -> Links: ...

    def boot_formed(self, names: Sequence[str]) -> None:
        """Start every named node already knowing all of them alive (no join traffic)."""
        ...

    def run(self, until: float, on_progress: Callable[[float], None] | None = None) -> None:
        """Advance to global time `until`, calling `on_progress(now)` now and then."""
        ...

    def counters(self) -> dict[str, Any]:
        """Totals for the trace's `end` record: events, messages_sent, bytes_sent,
        messages_delivered, messages_dropped (reason -> count), sent_by_node
        (node -> [messages, bytes] over all its lives)."""
        ...


def needed(fault: Fault) -> frozenset[Capability]:
    """The capabilities a fault needs (a flip_flop also needs its toggled fault's)."""
    needs = fault.spec.needs
    return needs | needed(fault.inner) if fault.inner is not None else needs


def check_supported(scenario: Scenario, capabilities: frozenset[Capability], runtime: str) -> None:
    """Refuse, before anything runs, a scenario with a fault the runtime cannot apply."""
    for fault in scenario.faults:
        missing = sorted(needed(fault) - capabilities)
        if missing:
            raise ScenarioError(
                scenario.source,
                f"{fault.path}.op",
                f"an operation the {runtime} runtime supports ({fault.op} needs {', '.join(missing)})",
                fault.op,
            )
