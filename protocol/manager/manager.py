"""`ClusterManager`: a Node plus the membership its application acts with and split-brain resolution.

SWIM answers "who is reachable from me"; an application needs "which members do I act with,
and should I keep serving at all". The manager wraps one `Node` and is driven exactly like one
(the runtimes' `Driver` drives either), with the same sans-I/O inputs, each taking `now` (local
time, seconds):

- API calls: `start`, `join(seeds)`, `leave`, `recover` (passed to the Node, then its own part);
- `handle_message(src, message, now)`: a `ManagerGossip` is the manager's, anything else the
  Node's;
- `handle_timer(timer, now)`: `ManagerTick` is the manager's, anything else the Node's;
- `lease_reply(granted, now)`: the outside world's lease answered a `LeaseRequest`.

Each returns one `Effects`: the Node's sends, timers and notifications, then the manager's own
(its gossip, its tick, its events of `manager/events.py`). Application events are also
published to `events`, a bounded `EventStream`, when the manager was built with a capacity.

What it does, every `tick_s` (Akka's SBR also looks once per second):

1. the application view (view.py) takes in the Node's notifications as they come and, at the
   tick, lets a member's status follow SWIM's belief once that has held for `settle_s`; a
   member it learns of from the gossiped lives table before SWIM does is introduced to SWIM
   (a join towards it) and counts as unreachable if SWIM has not heard of it `settle_s` later;
2. its own unreachable set becomes its observation (tables.py), gossiped with its lives and
   downs to `gossip_fanout` random live members and one unreachable or downed one (so another
   side hears when it can hear again); a gossip that is not a reply is answered;
3. the PartitionDetector (protocol/partition.py) judges the reachable count against the
   membership (threshold `partition_threshold`, grace `stable_after_s`): its status is news;
4. when some member is unreachable and nothing (statuses, the unreachable set, the indirectly
   connected set) has changed for `stable_after_s`, the strategy decides (downing.py and the
   strategy's module state the rules); a lease decision first asks the lease;
5. acting on a decision downs its members in the view and in the gossiped downs; if this node
   is among them it stops serving for good (and leaves SWIM when `leave_when_downed`), after
   telling the members of its own side it downed, so they stop even if their view lags;
6. instability for longer than `stable_after_s + down_all_when_unstable_s` (the unreachable set
   never empty and changing) downs everyone (Akka's down-all-when-unstable).

Deviation from Akka, stated: Akka's SBR acts on the leader only and the others learn the downs
by gossip; here every node decides for itself, on its own view (a node only ever stops itself;
the downs it gossips make the others stop). A side with a lagging view may therefore decide a
little later, never for another node. Serving begins when the node is up: at once for an
initial member of a formed cluster; for a node that joins through seeds, once it has heard a
manager's gossip (until then it waits, as an Akka node that cannot reach its seeds waits);
for a node started without seeds (the first seed), `settle_s` after it started, alone.

Concurrency: none. Every input runs to completion on the caller's thread and loop (the
simulator's kernel, the live runtime's event loop; a lease answer arrives as one more input on
that loop), so the seed's PartitionDetector lock-hold race (sim/interleave/models/
partition_detector.py) cannot arise here: there is no lock and no await between reading and
publishing the detector's status.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..effects import NO_EFFECTS, Effects, Send, SetTimer
from ..event_stream import EventStream
from ..events import Event, Refuted
from ..lifecycle import Lifecycle
from ..messages import ManagerGossip, MemberState, Message, NodeId, Update
from ..node import Node
from ..partition import PartitionDetector, PartitionStatus
from ..timers import ManagerTick, Timer
from .config import ManagerConfig
from .downing import Decision, LeaseDecision, Situation, by_name, nodes_to_down
from .events import (
    APPLICATION_EVENTS,
    DowningDecision,
    LeaseRequest,
    LeaseResult,
    MemberStatus,
    MemberStatusChanged,
    PartitionStatusChanged,
    ServingChanged,
)
from .strategies import strategy_for
from .tables import Tables
from .view import ApplicationView

_LIFE_BITS = 62  # a life id fits the wire's uints (< 2**63), and is never 0 (0: unknown)


@dataclass(slots=True)
class _LeaseWait:
    decision: LeaseDecision
    acquire_at: float
    owner: NodeId = ""
    deadline_at: float | None = None  # set once asked


class ClusterManager:
    """See the module docstring. `node` must be new (not started); `rng` is the manager's own."""

    def __init__(
        self, node: Node, settings: ManagerConfig, rng: random.Random, events_capacity: int = 0
    ) -> None:
        self.node = node
        self.name: NodeId = node.name
        self.config = node.config  # the Driver reads the Node's config
        self.settings = settings
        self.strategy = strategy_for(settings)
        self._rng = rng
        self.life = rng.getrandbits(_LIFE_BITS) + 1
        self.tables = Tables(self.name, self.life)
        self.app_view = ApplicationView(self.name, settings.settle_s, settings.unreachable_on)
        self.detector = PartitionDetector(1, settings.partition_threshold, settings.stable_after_s)
        self.partition_status = PartitionStatus.HEALTHY
        self.events: EventStream | None = EventStream(events_capacity) if events_capacity else None
        self.serving = False
        self.stopped = False  # downed or left: for good
        self.decisions = 0
        self._started_at = 0.0
        self._joining = False  # join() was called: up only once a manager answers
        self._changed_at = 0.0  # the last change the stable-after window counts from
        self._unstable_since: float | None = None  # unreachable set non-empty and changing since
        self._last_unreachable: frozenset[NodeId] = frozenset()
        self._last_indirect: frozenset[NodeId] = frozenset()
        self._lease: _LeaseWait | None = None
        self._situation: tuple[tuple[frozenset[NodeId], int], Situation] | None = None
        self._sends: list[Send] = []
        self._timers: list[SetTimer] = []
        self._events: list[Event] = []

    # Read-only views ----------------------------------------------------------------------------
    @property
    def lifecycle(self) -> Lifecycle:
        """The Node's lifecycle (SWIM's), not the manager's serving state."""
        return self.node.lifecycle

    def view(self) -> Mapping[NodeId, Update]:
        """SWIM's member table (the Node's `view`); the application's is `members()`."""
        return self.node.view()

    def members(self) -> dict[NodeId, MemberStatus]:
        """The application view: member -> status (this node not included)."""
        return self.app_view.statuses()

    def situation(self) -> Situation:
        """What the strategy sees now (rebuilt only when the view or the tables changed)."""
        members = self.app_view.members() | {self.name}
        key = (members, self.tables.version)
        if self._situation is None or self._situation[0] != key:
            built = Situation(self.name, members, self.tables.records(), self.tables.up_numbers())
            self._situation = (key, built)
        return self._situation[1]

    # API calls ----------------------------------------------------------------------------------
    def start(self, now: float, known: Iterable[Update] = ()) -> Effects:
        known = tuple(known)
        effects = self.node.start(now, known)
        self._started_at = self._changed_at = now
        if known:  # an initial member of a formed cluster: up at once, everyone ranked 0
            members = [u.member for u in known if u.member != self.name]
            self.tables.assume(members, 0)
            self._become_up(0)
            for change in self.app_view.install(members, now):
                self._publish(change)
        self._observe(effects.events, now)
        self._timers.append(SetTimer(now + self._rng.uniform(0.0, self.settings.tick_s), ManagerTick()))
        return self._flush(effects)

    def join(self, seeds: tuple[NodeId, ...], now: float) -> Effects:
        effects = self.node.join(seeds, now)
        self._observe(effects.events, now)
        self._joining = self._joining or any(seed != self.name for seed in seeds)
        if not self.stopped:
            for seed in seeds:
                if seed != self.name:
                    self._send_gossip(seed, reply=False)
        return self._flush(effects)

    def leave(self, now: float) -> Effects:
        """A graceful leave: the Node announces it; the manager records it as a down by this node
        itself (so managers that learn the membership from gossip do not count it) and tells a
        few live members, then stops."""
        effects = self.node.leave(now)
        self._observe(effects.events, now)
        if not self.stopped:
            self.tables.add_down(self.name, self.name)
            live = sorted(self.app_view.with_status(MemberStatus.UP))
            for member in self._rng.sample(live, min(len(live), self.config.gossip_nodes)):
                self._send_gossip(member, reply=True)
            self._stop("left", now, leave=False)
        return self._flush(effects)

    def recover(self, now: float) -> Effects:
        """Back after a crash with state kept: the Node recovers (unless it left when downed);
        the tick is re-armed (the runtime dropped every timer), the view keeps its statuses."""
        effects = NO_EFFECTS
        if self.node.lifecycle is Lifecycle.RUNNING:
            effects = self.node.recover(now)
            self._observe(effects.events, now)
        if not self.stopped:
            self._timers.append(SetTimer(now + self.settings.tick_s, ManagerTick()))
        return self._flush(effects)

    def lease_reply(self, granted: bool, now: float) -> Effects:
        """The lease answered our request (late answers, after the timeout, change nothing)."""
        wait = self._lease
        if wait is not None and wait.deadline_at is not None and not self.stopped:
            self._lease = None
            self._events.append(LeaseResult(wait.owner, "granted" if granted else "denied"))
            self._resolve_lease(wait, granted, now)
        return self._flush(NO_EFFECTS)

    # Inputs -------------------------------------------------------------------------------------
    def handle_message(self, src: NodeId, message: Message, now: float) -> Effects:
        if isinstance(message, ManagerGossip):
            if not self.stopped and self.node.lifecycle is Lifecycle.RUNNING:
                self._on_gossip(src, message, now)
            return self._flush(NO_EFFECTS)
        effects = self.node.handle_message(src, message, now)
        self._observe(effects.events, now)
        return self._flush(effects)

    def handle_timer(self, timer: Timer, now: float) -> Effects:
        if isinstance(timer, ManagerTick):
            if not self.stopped:
                self._tick(now)
            return self._flush(NO_EFFECTS)
        effects = self.node.handle_timer(timer, now)
        self._observe(effects.events, now)
        return self._flush(effects)

    def _observe(self, events: tuple[Event, ...], now: float) -> None:
        if self.stopped:
            return
        for event in events:
            if not isinstance(event, Refuted):
                for change in self.app_view.swim_event(event, now):
                    self._view_changed(change, now)

    # The tick -----------------------------------------------------------------------------------
    def _tick(self, now: float) -> None:
        s = self.settings
        self._timers.append(SetTimer(now + s.tick_s, ManagerTick()))
        if self.tables.up_number is None and not self._joining and now - self._started_at >= s.settle_s:
            self._become_up(None)  # started without seeds, nobody answered: we are the first
        for change in self.app_view.settle(now):
            self._view_changed(change, now)
        for change in self.app_view.remove_downed(now, s.removal_after_s):
            self._view_changed(change, now)
        self.tables.observe(self.app_view.unreachable())
        situation = self.situation()
        self._track_stability(situation, now)
        self._check_partition(situation, now)
        if self.serving:
            self._maybe_decide(situation, now)
        if not self.stopped:
            self._gossip_round()

    def _track_stability(self, situation: Situation, now: float) -> None:
        unreachable, indirect = situation.unreachable, situation.indirectly_connected
        if unreachable != self._last_unreachable or indirect != self._last_indirect:
            self._changed_at = now
            if not unreachable:
                self._unstable_since = None
            elif self._unstable_since is None:
                self._unstable_since = now
        self._last_unreachable, self._last_indirect = unreachable, indirect

    def _check_partition(self, situation: Situation, now: float) -> None:
        self.detector.set_expected_size(len(situation.members))
        status = self.detector.check(len(situation.reachable), now)
        if status is not self.partition_status:
            self.partition_status = status
            self._publish(PartitionStatusChanged(status.value))

    def _maybe_decide(self, situation: Situation, now: float) -> None:
        s = self.settings
        wait = self._lease
        if wait is not None:
            if wait.deadline_at is None and now >= wait.acquire_at:
                wait.owner = min(situation.reachable, key=by_name)
                wait.deadline_at = now + s.lease_timeout_s
                self._events.append(LeaseRequest(wait.owner))
            elif wait.deadline_at is not None and now >= wait.deadline_at:
                self._lease = None
                self._events.append(LeaseResult(wait.owner, "timeout"))
                self._resolve_lease(wait, False, now)
            return
        if not situation.unreachable:
            return
        unstable_after = s.unstable_after_s
        if (
            unstable_after is not None
            and self._unstable_since is not None
            and now - self._unstable_since > unstable_after
        ):
            self._act(Decision.DOWN_ALL, situation, now, "unstable")
            return
        if now - self._changed_at < s.stable_after_s:
            return
        decision = self.strategy.decide(situation)
        if isinstance(decision, LeaseDecision):
            self._lease = _LeaseWait(decision, now + decision.acquire_delay_s)
            self._maybe_decide(situation, now)  # a zero delay asks at once
        elif decision is not None:
            self._act(decision, situation, now)

    def _resolve_lease(self, wait: _LeaseWait, granted: bool, now: float) -> None:
        situation = self.situation()
        if not situation.unreachable:
            return  # healed while we waited: nothing left to decide
        self._act(wait.decision.decision if granted else wait.decision.reverse, situation, now)

    def _act(self, decision: Decision, situation: Situation, now: float, why: str = "") -> None:
        down = nodes_to_down(self.strategy, situation, decision)
        self.decisions += 1
        name = f"{decision.value} ({why})" if why else decision.value
        self._publish(
            DowningDecision(
                self.strategy.name,
                name,
                tuple(sorted(down, key=by_name)),
                len(situation.reachable),
                len(situation.unreachable),
            )
        )
        for member in sorted(down - {self.name}, key=by_name):
            self.tables.add_down(member, self.name)
            self.tables.forget_observer(member)
            change = self.app_view.down(member, now)
            if change is not None:
                self._view_changed(change, now)
        self._changed_at = now
        self._unstable_since = None
        if self.name in down:
            self.tables.add_down(self.name, self.name)
            # Those of our side stop with us even if their view lags; the other side is not told
            # (it is unreachable, and a one-way cut must not carry our verdict on it across).
            for member in sorted(down & situation.reachable - {self.name}, key=by_name):
                self._send_gossip(member, reply=True)
            self._stop(f"downed by own decision {name}", now)
        else:
            for member in sorted(situation.reachable - {self.name}, key=by_name):
                self._send_gossip(member, reply=True)  # spread the downs now, not at the next tick

    # Gossip -------------------------------------------------------------------------------------
    def _gossip_round(self) -> None:
        live, other = [], []
        for member, record in self.node.view().items():
            if member == self.name:
                continue
            if record.state is MemberState.ALIVE or record.state is MemberState.SUSPECT:
                live.append(member)
            elif record.state is MemberState.DEAD:
                other.append(member)
        other.extend(self.app_view.with_status(MemberStatus.UNREACHABLE, MemberStatus.DOWN))
        rng = self._rng
        for member in rng.sample(sorted(live), min(self.settings.gossip_fanout, len(live))):
            self._send_gossip(member, reply=False)
        if other:
            self._send_gossip(rng.choice(sorted(set(other))), reply=False)

    def _send_gossip(self, member: NodeId, reply: bool) -> None:
        self._sends.append(Send(member, self.tables.gossip(self.app_view.members(), reply)))

    def _on_gossip(self, src: NodeId, gossip: ManagerGossip, now: float) -> None:
        merged = self.tables.merge(gossip)
        for member in merged.new_lives:
            self.app_view.new_life(member, now)
        for downing in merged.downed:
            self.tables.forget_observer(downing.member)
            change = self.app_view.down(downing.member, now)
            if change is not None:
                self._view_changed(change, now)
        if merged.self_downed_by is not None:
            self._stop(f"downed by {merged.self_downed_by}", now)
            return
        for member in self.tables.members():
            if self.app_view.introduce(member, now):
                self._introduce(member, now)
        if self.tables.up_number is None and gossip.members:  # someone is up: join them
            self._become_up(None)
        if not gossip.reply:
            self._send_gossip(src, reply=True)

    def _introduce(self, member: NodeId, now: float) -> None:
        """SWIM has not heard of a member the lives table names: sync with it (a join towards it)."""
        effects = self.node.join((member,), now)
        self._sends.extend(effects.sends)
        self._timers.extend(effects.timers)
        self._events.extend(effects.events)
        self._observe(effects.events, now)

    # Serving ------------------------------------------------------------------------------------
    def _become_up(self, up_number: int | None) -> None:
        self.tables.take_up_number(up_number)
        self.serving = True
        self._publish(ServingChanged(True, "up"))

    def _stop(self, reason: str, now: float, leave: bool = True) -> None:
        self.stopped = True
        self._lease = None
        if self.serving:
            self.serving = False
            self._publish(ServingChanged(False, reason))
        if leave and self.settings.leave_when_downed and self.node.lifecycle is Lifecycle.RUNNING:
            effects = self.node.leave(now)
            self._sends.extend(effects.sends)
            self._timers.extend(effects.timers)
            self._events.extend(effects.events)

    def _view_changed(self, change: MemberStatusChanged, now: float) -> None:
        self._changed_at = now
        self._publish(change)

    def _publish(self, event: Event) -> None:
        self._events.append(event)
        if self.events is not None and isinstance(event, APPLICATION_EVENTS):
            self.events.publish(event)

    def _flush(self, effects: Effects) -> Effects:
        if not (self._sends or self._timers or self._events):
            return effects
        out = Effects(
            effects.sends + tuple(self._sends),
            effects.timers + tuple(self._timers),
            effects.events + tuple(self._events),
        )
        self._sends, self._timers, self._events = [], [], []
        return out
