"""The SWIM + Lifeguard membership state machine, sans I/O.

A `Node` never reads a clock, never sleeps, never touches a socket and never uses global
randomness. Its inputs, each taking `now` (this node's local monotonic time, seconds):

- API calls: `start`, `join(seeds)`, `leave`, `resume` (restart after a crash, state kept);
- `handle_message(src, message, now)`: a decoded message from member `src`;
- `handle_timer(timer, now)`: a timer this node asked for has come due.

Each returns an immutable `Effects`: messages to send, timers to set (absolute local deadlines),
notifications. Timers are typed values and are never cancelled; a stale one is ignored here.

The protocol is SWIM (Das et al., 2002) as memberlist implements it: shuffled round-robin
probing, ping → ping-req through `indirect_checks` relays, suspicion → dead, refutation by
incarnation, piggybacked and fanned-out gossip with a retransmit limit, push-pull anti-entropy,
join through seeds, graceful leave. Lifeguard (Dadgar et al., 2018) is switchable piece by
piece: local health multiplier, nacks, dynamic suspicion with independent confirmations, buddy
system. Dead members are kept as tombstones, retried every `reconnect_interval_s` (Serf's
reconnect, so healed partitions re-merge on their own) and forgotten after `dead_reclaim_s`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from .codec import MAX_INT, MAX_NODE_ID_BYTES, update_size
from .config import Config
from .effects import NO_EFFECTS, Effects, Send, SetTimer
from .errors import LocalProtocolError
from .events import (
    Event,
    MemberAlive,
    MemberFailed,
    MemberJoined,
    MemberLeft,
    MemberRemoved,
    MemberSuspected,
    MemberUpdated,
    Refuted,
)
from .formulas import (
    apply_awareness_delta,
    push_pull_scale,
    remaining_suspicion_time,
    retransmit_limit,
    scale_timeout,
    suspicion_timeout,
)
from .gossip_queue import GossipQueue
from .messages import (
    Ack,
    Gossip,
    MemberState,
    Message,
    Nack,
    NodeId,
    Ping,
    PingReq,
    PushPull,
    Update,
)
from .phi import PhiAccrualDetector
from .precedence import Verdict, judge_about_others, judge_about_self, refuted_incarnation
from .timers import (
    GossipTick,
    ProbeRoundEnd,
    ProbeTick,
    ProbeTimeout,
    PushPullTick,
    ReclaimDead,
    ReconnectTick,
    RelayTimeout,
    SuspicionTimeout,
    Timer,
)

ALIVE, SUSPECT, DEAD, LEFT = (
    MemberState.ALIVE,
    MemberState.SUSPECT,
    MemberState.DEAD,
    MemberState.LEFT,
)

# Bytes kept free in a datagram for the message's own fields (version, type, seq, target name).
_HEADER_RESERVE = 32


class Lifecycle(Enum):
    NEW = "new"
    RUNNING = "running"
    LEFT = "left"


@dataclass(slots=True)
class _Probe:
    seq: int
    target: NodeId
    acked: bool = False
    expected_nacks: int = 0
    nacks: int = 0


@dataclass(slots=True)
class _Suspicion:
    incarnation: int
    started_at: float
    timeout_s: float
    min_s: float
    max_s: float
    k: int  # independent confirmations that bring the timeout down to min_s
    token: int
    confirmers: set[NodeId] = field(default_factory=set)

    @property
    def deadline(self) -> float:
        return self.started_at + self.timeout_s


class Node:
    """One member of a SWIM cluster. See the module docstring for the inputs and outputs."""

    def __init__(self, name: NodeId, config: Config, rng: random.Random) -> None:
        if not isinstance(name, str) or not 0 < len(name.encode("utf-8", "replace")) <= MAX_NODE_ID_BYTES:
            raise LocalProtocolError(f"node name must be 1..{MAX_NODE_ID_BYTES} UTF-8 bytes, got {name!r}")
        self.name = name
        self.config = config
        self.incarnation = 0
        self.lifecycle = Lifecycle.NEW
        self.awareness = 0  # Lifeguard's local health score: timeouts scale by (awareness + 1)
        self._rng = rng
        self._members: dict[NodeId, Update] = {name: Update(ALIVE, name, 0, name)}
        # Alive and suspect members other than us, for O(1) random choice and counting.
        self._live: list[NodeId] = []
        self._live_index: dict[NodeId, int] = {}
        self._probe_order: list[NodeId] = []
        self._probe_pos = 0
        self._probe: _Probe | None = None
        self._relayed: dict[int, tuple[NodeId, int]] = {}  # our ping seq → (origin, origin's seq)
        self._suspicions: dict[NodeId, _Suspicion] = {}
        self._down_since: dict[NodeId, float] = {}  # dead or left members, in order of death
        self._detectors: dict[NodeId, PhiAccrualDetector] = {}
        self._seq = 0
        self._token = 0
        self._join_seeds: tuple[NodeId, ...] = ()
        # Gossip ticks run only while there is news: the tick grid (phase + k × interval) is
        # kept, and ticks that would find the queue empty, and so do nothing, are not scheduled.
        self._gossip_phase = 0.0
        self._gossip_armed = False
        self._last_now = -math.inf
        self._queue = GossipQueue(self._retransmit_limit, self.cluster_size, update_size)
        self._sends: list[Send] = []
        self._timers: list[SetTimer] = []
        self._events: list[Event] = []

    # Read-only views ----------------------------------------------------------------------
    def view(self) -> Mapping[NodeId, Update]:
        """The member table, this node included: member → the news last accepted about it."""
        return MappingProxyType(self._members)

    def cluster_size(self) -> int:
        """Alive and suspect members, this node included: the n of every scaling formula."""
        return len(self._live) + 1

    # API calls ----------------------------------------------------------------------------
    def start(self, now: float, known: Iterable[Update] = ()) -> Effects:
        """Begin probing and gossiping; `known` pre-fills the view with alive members.

        With no `known` members the node is a cluster of one until it joins. `known` is for a
        node restored from a saved member list, or a simulator building an already-formed
        cluster: the records are installed as they are (shared, not copied), without
        notifications or gossip, and the probe order is one shuffle of them.
        """
        self._advance(now)
        if self.lifecycle is not Lifecycle.NEW:
            raise LocalProtocolError(
                f"node {self.name!r}: start() called twice (it is {self.lifecycle.value})"
            )
        members = [u for u in known if u.member != self.name]
        for update in members:
            if update.state is not ALIVE:
                raise LocalProtocolError(
                    f"node {self.name!r}: start(known=...) takes alive members, got {update!r}"
                )
        self.lifecycle = Lifecycle.RUNNING
        for update in members:
            if update.member not in self._live_index:
                self._live_index[update.member] = len(self._live)
                self._live.append(update.member)
            self._members[update.member] = update
        self._probe_order = list(self._live)
        self._rng.shuffle(self._probe_order)
        self._arm_periodic_timers(now)
        return self._flush()

    def join(self, seeds: tuple[NodeId, ...], now: float) -> Effects:
        """Exchange full state with each seed; their replies introduce the cluster.

        Seeds are remembered: while the node knows no live member (every seed was down or the
        join was lost) it asks them again every `reconnect_interval_s` (Serf's retry_join).
        """
        self._advance(now)
        self._require_running("join")
        self._join_seeds = tuple(dict.fromkeys(s for s in (*self._join_seeds, *seeds) if s != self.name))
        snapshot = self._snapshot()
        for seed in seeds:
            if seed != self.name:
                self._send(seed, PushPull(snapshot, join=True))
        return self._flush()

    def leave(self, now: float) -> Effects:
        """Announce a graceful leave; afterwards the node only gossips the news out."""
        self._advance(now)
        self._require_running("leave")
        self.lifecycle = Lifecycle.LEFT
        record = Update(LEFT, self.name, self.incarnation, self.name)
        self._members[self.name] = record
        self._queue.enqueue(record)
        for dst in self._random_members(self.config.gossip_nodes, include_recently_dead=False):
            self._send(dst, Gossip((record,)))
        return self._flush()

    def resume(self, now: float) -> Effects:
        """Come back after a crash with state kept: new incarnation, fresh timers, a full sync.

        The runtime must have dropped every timer of the previous life.
        """
        self._advance(now)
        self._require_running("resume")
        self.incarnation = min(self.incarnation + 1, MAX_INT)
        record = Update(ALIVE, self.name, self.incarnation, self.name)
        self._members[self.name] = record
        self._queue.enqueue(record)
        self._probe = None
        self._relayed.clear()
        self._arm_periodic_timers(now)
        for member, suspicion in self._suspicions.items():
            self._token += 1
            suspicion.token = self._token
            self._set_timer(
                max(now, suspicion.deadline),
                SuspicionTimeout(member, suspicion.incarnation, self._token),
            )
        for member, since in self._down_since.items():
            held = self._members[member]
            self._set_timer(
                max(now, since + self.config.dead_reclaim_s), ReclaimDead(member, held.incarnation)
            )
        for dst in self._random_members(1, include_recently_dead=False):
            self._send(dst, PushPull(self._snapshot()))
        return self._flush()

    # Messages -----------------------------------------------------------------------------
    def handle_message(self, src: NodeId, message: Message, now: float) -> Effects:
        self._advance(now)
        if self.lifecycle is not Lifecycle.RUNNING:
            return NO_EFFECTS
        if self.config.detector == "phi" and src in self._live_index:
            self._heartbeat(src, now)
        if isinstance(message, PushPull):
            self._on_push_pull(src, message, now)
            return self._flush()
        if isinstance(message, Ping):
            if message.target != self.name:
                return NO_EFFECTS  # meant for whoever had this address before us
            self._learn_all(message.updates, now)
            self._send(src, Ack(message.seq, self._piggyback()))
        elif isinstance(message, Ack):
            self._learn_all(message.updates, now)
            self._on_ack(message.seq)
        elif isinstance(message, Nack):
            self._learn_all(message.updates, now)
            if self._probe is not None and self._probe.seq == message.seq:
                self._probe.nacks += 1
        elif isinstance(message, PingReq):
            self._learn_all(message.updates, now)
            self._relay(src, message, now)
        elif isinstance(message, Gossip):
            self._learn_all(message.updates, now)
        return self._flush()

    def _on_ack(self, seq: int) -> None:
        probe = self._probe
        if probe is not None and probe.seq == seq:
            if not probe.acked:
                probe.acked = True
                self._adjust_awareness(-1)
            return
        relayed = self._relayed.pop(seq, None)
        if relayed is not None:
            origin, origin_seq = relayed
            self._send(origin, Ack(origin_seq, self._piggyback()))

    def _relay(self, origin: NodeId, request: PingReq, now: float) -> None:
        if request.target == self.name:  # asked to probe ourselves: we are the answer
            self._send(origin, Ack(request.seq, self._piggyback()))
            return
        self._seq += 1
        self._relayed[self._seq] = (origin, request.seq)
        self._send(request.target, Ping(self._seq, request.target, self._piggyback()))
        self._set_timer(now + self.config.probe_timeout_s, RelayTimeout(self._seq))

    def _on_push_pull(self, src: NodeId, message: PushPull, now: float) -> None:
        if not message.reply:
            self._send(src, PushPull(self._snapshot(), join=message.join, reply=True))
        for record in message.members:
            if record.state is DEAD:
                # memberlist's mergeState: a remote death becomes our own suspicion, so a member
                # that is in fact alive (say, across a healed partition) gets the time to refute.
                record = Update(SUSPECT, record.member, record.incarnation, self.name)
            self._learn(record, now)

    # Timers -------------------------------------------------------------------------------
    def handle_timer(self, timer: Timer, now: float) -> Effects:
        self._advance(now)
        if self.lifecycle is Lifecycle.NEW:
            raise LocalProtocolError(f"node {self.name!r}: timer {timer!r} fired before start()")
        if isinstance(timer, GossipTick):
            self._on_gossip_tick(now)
        elif self.lifecycle is Lifecycle.LEFT:
            return self._flush()  # a node that left only finishes spreading the news
        elif isinstance(timer, ProbeRoundEnd):
            if self._probe is not None and self._probe.seq == timer.seq:
                self._end_probe(now)
                self._start_probe(now)
        elif isinstance(timer, ProbeTimeout):
            self._on_probe_timeout(timer.seq)
        elif isinstance(timer, ProbeTick):
            if self._probe is None:
                self._start_probe(now)
        elif isinstance(timer, RelayTimeout):
            relayed = self._relayed.pop(timer.seq, None)
            if relayed is not None and self.config.lifeguard_nack:
                origin, origin_seq = relayed
                self._send(origin, Nack(origin_seq, self._piggyback()))
        elif isinstance(timer, SuspicionTimeout):
            self._on_suspicion_timeout(timer, now)
        elif isinstance(timer, PushPullTick):
            self._set_timer(
                now + push_pull_scale(self.config.push_pull_interval_s, self.cluster_size()),
                PushPullTick(),
            )
            for dst in self._random_members(1, include_recently_dead=False):
                self._send(dst, PushPull(self._snapshot()))
        elif isinstance(timer, ReconnectTick):
            self._set_timer(now + self.config.reconnect_interval_s, ReconnectTick())
            if not self._live and self._join_seeds:
                snapshot = self._snapshot()
                for seed in self._join_seeds:
                    self._send(seed, PushPull(snapshot, join=True))
            dead = [m for m, since in self._down_since.items() if self._members[m].state is DEAD]
            if dead:
                self._send(dead[self._rng.randrange(len(dead))], PushPull(self._snapshot()))
        elif isinstance(timer, ReclaimDead):
            held = self._members.get(timer.member)
            if held is not None and held.is_down and held.incarnation == timer.incarnation:
                del self._members[timer.member]
                del self._down_since[timer.member]
                self._detectors.pop(timer.member, None)
                self._events.append(MemberRemoved(timer.member, held.incarnation))
        return self._flush()

    def _start_probe(self, now: float) -> None:
        interval = self._scaled(self.config.probe_interval_s)
        target = self._next_probe_target()
        if target is None:
            self._probe = None
            self._set_timer(now + interval, ProbeTick())
            return
        self._seq += 1
        self._probe = _Probe(self._seq, target)
        held = self._members[target]
        buddy = held if held.state is SUSPECT and self.config.lifeguard_buddy else None
        self._send(target, Ping(self._seq, target, self._piggyback(first=buddy)))
        self._set_timer(now + self._scaled(self.config.probe_timeout_s), ProbeTimeout(self._seq))
        self._set_timer(now + interval, ProbeRoundEnd(self._seq))

    def _on_probe_timeout(self, seq: int) -> None:
        probe = self._probe
        if probe is None or probe.seq != seq or probe.acked:
            return
        relays = self._random_members(
            self.config.indirect_checks, include_recently_dead=False, exclude=probe.target
        )
        for relay in relays:
            self._send(relay, PingReq(seq, probe.target, self._piggyback()))
        if self.config.lifeguard_nack:
            probe.expected_nacks = len(relays)

    def _end_probe(self, now: float) -> None:
        probe = self._probe
        assert probe is not None
        self._probe = None
        if probe.acked:
            return
        # memberlist: with relays that nack we blame ourselves only for the nacks we missed;
        # without them every failed probe counts against our own health.
        if probe.expected_nacks > 0:
            self._adjust_awareness(max(0, probe.expected_nacks - probe.nacks))
        else:
            self._adjust_awareness(1)
        held = self._members.get(probe.target)
        if held is None or held.is_down:
            return
        if self.config.detector == "phi" and self._phi(probe.target, now) < self.config.phi_threshold:
            # Phi gates the verdict: the member has been heard from recently enough that one
            # failed probe is not evidence. Probe it again next round.
            self._probe_order.insert(self._probe_pos, probe.target)
            return
        # Already suspect: our own failed probe is an independent confirmation, which memberlist
        # re-gossips so the suspicion timeout shrinks everywhere (Lifeguard).
        self._learn(Update(SUSPECT, probe.target, held.incarnation, self.name), now)

    def _on_gossip_tick(self, now: float) -> None:
        if not len(self._queue):
            self._gossip_armed = False
            return
        self._set_timer(now + self.config.gossip_interval_s, GossipTick())
        for dst in self._random_members(self.config.gossip_nodes, include_recently_dead=True, now=now):
            updates = self._piggyback()
            if not updates:
                break
            self._send(dst, Gossip(updates))

    def _on_suspicion_timeout(self, timer: SuspicionTimeout, now: float) -> None:
        suspicion = self._suspicions.get(timer.member)
        if suspicion is None or suspicion.token != timer.token:
            return
        held = self._members.get(timer.member)
        if held is None or held.state is not SUSPECT or held.incarnation != timer.incarnation:
            return
        self._learn(Update(DEAD, timer.member, timer.incarnation, self.name), now)

    # Membership news ----------------------------------------------------------------------
    def _learn_all(self, updates: tuple[Update, ...], now: float) -> None:
        for update in updates:
            self._learn(update, now)

    def _learn(self, news: Update, now: float) -> None:
        """Judge one piece of news by the precedence tables and apply the verdict."""
        if self._members.get(news.member) is news:
            return  # the very record we hold (the simulator shares decoded records): nothing new
        if news.member == self.name:
            if self.lifecycle is not Lifecycle.RUNNING:
                return
            if judge_about_self(self.incarnation, news) is Verdict.REFUTE:
                if news.incarnation >= MAX_INT:
                    return  # no incarnation on the wire outbids it: a forged accusation, refused
                self._refute(news)
            elif news.state is not ALIVE and news.incarnation < self.incarnation:
                # A stale accusation: its author missed our refutation, which may have spent
                # its retransmissions elsewhere. Queue our alive record again (same
                # incarnation) so the next message to anyone, the accuser's buddy-ping ack
                # included, carries it. Not in memberlist; found by the cluster state machine.
                self._queue.enqueue(self._members[self.name])
            return
        held = self._members.get(news.member)
        verdict = judge_about_others(held, news)
        if verdict is Verdict.APPLY:
            self._replace(held, news, now)
            self._queue.enqueue(news)
        elif verdict is Verdict.CONFIRM and self._confirm(news, now):
            self._queue.enqueue(news)  # memberlist re-gossips each new confirmation

    def _refute(self, accusation: Update) -> None:
        self.incarnation = refuted_incarnation(self.incarnation, accusation.incarnation)
        record = Update(ALIVE, self.name, self.incarnation, self.name)
        self._members[self.name] = record
        self._queue.enqueue(record)
        if accusation.state is not ALIVE:
            self._adjust_awareness(1)  # Lifeguard: being suspected hints that we are the slow one
        self._events.append(Refuted(self.incarnation, accusation.state.name.lower(), accusation.origin))

    def _replace(self, held: Update | None, news: Update, now: float) -> None:
        """Install `news` as our record of its member and keep every index in step."""
        member, state = news.member, news.state
        old = held.state if held is not None else None
        self._members[member] = news
        was_live = old is ALIVE or old is SUSPECT
        is_live = state is ALIVE or state is SUSPECT
        if is_live and not was_live:
            self._add_live(member)
            self._down_since.pop(member, None)
        elif was_live and not is_live:
            self._remove_live(member)
        if news.is_down:
            self._down_since.pop(member, None)  # re-insert so the dict stays in order of death
            self._down_since[member] = now
            self._set_timer(now + self.config.dead_reclaim_s, ReclaimDead(member, news.incarnation))
        if state is SUSPECT:
            self._start_suspicion(news, now)
        else:
            self._suspicions.pop(member, None)
        event = _transition_event(old, news)
        if event is not None:
            self._events.append(event)

    def _start_suspicion(self, news: Update, now: float) -> None:
        cfg = self.config
        n = self.cluster_size()
        k = cfg.suspicion_mult - 2 if cfg.lifeguard_dynamic_suspicion else 0
        if n - 2 < k:
            k = 0  # too few members to expect independent confirmations
        min_s = suspicion_timeout(cfg.suspicion_mult, n, cfg.probe_interval_s)
        max_s = cfg.suspicion_max_timeout_mult * min_s if k >= 1 else min_s
        self._token += 1
        suspicion = _Suspicion(news.incarnation, now, max_s, min_s, max_s, k, self._token, {news.origin})
        self._suspicions[news.member] = suspicion
        self._set_timer(suspicion.deadline, SuspicionTimeout(news.member, news.incarnation, self._token))

    def _confirm(self, news: Update, now: float) -> bool:
        """Count an independent accuser; shrink the timeout as Lifeguard does. True if new."""
        suspicion = self._suspicions.get(news.member)
        if suspicion is None or suspicion.k < 1 or news.origin in suspicion.confirmers:
            return False
        confirmations = len(suspicion.confirmers)  # the first accuser is not a confirmation
        if confirmations > suspicion.k:
            return False
        suspicion.confirmers.add(news.origin)
        elapsed = now - suspicion.started_at
        remaining = remaining_suspicion_time(
            confirmations, suspicion.k, elapsed, suspicion.min_s, suspicion.max_s
        )
        suspicion.timeout_s = elapsed + remaining
        self._token += 1
        suspicion.token = self._token
        self._set_timer(
            max(now, suspicion.deadline),
            SuspicionTimeout(news.member, suspicion.incarnation, self._token),
        )
        return True

    # Helpers ------------------------------------------------------------------------------
    def _advance(self, now: float) -> None:
        if not now >= self._last_now:  # also refuses NaN
            raise LocalProtocolError(
                f"node {self.name!r}: time went backwards (now={now!r} < last={self._last_now!r}); "
                "state unchanged"
            )
        self._last_now = now

    def _require_running(self, call: str) -> None:
        if self.lifecycle is not Lifecycle.RUNNING:
            raise LocalProtocolError(
                f"node {self.name!r}: {call}() needs a running node, it is {self.lifecycle.value}"
            )

    def _arm_periodic_timers(self, now: float) -> None:
        cfg, rng = self.config, self._rng
        # Random stagger, as memberlist does, so nodes started together do not probe in lockstep.
        self._set_timer(now + rng.uniform(0, cfg.probe_interval_s), ProbeTick())
        self._gossip_phase = now + rng.uniform(0, cfg.gossip_interval_s)
        self._gossip_armed = True
        self._set_timer(self._gossip_phase, GossipTick())
        self._set_timer(now + rng.uniform(0, cfg.push_pull_interval_s), PushPullTick())
        self._set_timer(now + cfg.reconnect_interval_s, ReconnectTick())

    def _flush(self) -> Effects:
        if not self._gossip_armed and len(self._queue) and self.lifecycle is not Lifecycle.NEW:
            self._arm_gossip()
        if not (self._sends or self._timers or self._events):
            return NO_EFFECTS
        effects = Effects(tuple(self._sends), tuple(self._timers), tuple(self._events))
        self._sends, self._timers, self._events = [], [], []
        return effects

    def _arm_gossip(self) -> None:
        """Schedule the next tick of the gossip grid strictly after now."""
        interval = self.config.gossip_interval_s
        ticks = math.floor((self._last_now - self._gossip_phase) / interval) + 1
        self._gossip_armed = True
        self._set_timer(self._gossip_phase + ticks * interval, GossipTick())

    def _send(self, dst: NodeId, message: Message) -> None:
        self._sends.append(Send(dst, message))

    def _set_timer(self, at: float, timer: Timer) -> None:
        self._timers.append(SetTimer(at, timer))

    def _piggyback(self, first: Update | None = None) -> tuple[Update, ...]:
        if not len(self._queue) and first is None:
            return ()
        budget = self.config.packet_budget_bytes - _HEADER_RESERVE - len(self.name)
        return self._queue.select(self.config.max_updates_per_message, budget, first=first)

    def _snapshot(self) -> tuple[Update, ...]:
        return tuple(self._members.values())

    def _retransmit_limit(self, n: int) -> int:
        return retransmit_limit(self.config.retransmit_mult, n, self.config.retransmit_formula)

    def _scaled(self, timeout_s: float) -> float:
        return scale_timeout(timeout_s, self.awareness) if self.config.lifeguard_lhm else timeout_s

    def _adjust_awareness(self, delta: int) -> None:
        if self.config.lifeguard_lhm and delta:
            self.awareness = apply_awareness_delta(
                self.awareness, delta, self.config.awareness_max_multiplier
            )

    def _add_live(self, member: NodeId) -> None:
        self._live_index[member] = len(self._live)
        self._live.append(member)
        # SWIM §4.3: a new member goes to a random place in the probe order.
        self._probe_order.insert(self._rng.randint(self._probe_pos, len(self._probe_order)), member)

    def _remove_live(self, member: NodeId) -> None:
        index = self._live_index.pop(member)
        last = self._live.pop()
        if last != member:
            self._live[index] = last
            self._live_index[last] = index
        self._detectors.pop(member, None)

    def _next_probe_target(self) -> NodeId | None:
        """Round-robin over a shuffled order, reshuffled after each full pass (SWIM §4.3)."""
        for _ in range(2):
            order = self._probe_order
            while self._probe_pos < len(order):
                member = order[self._probe_pos]
                self._probe_pos += 1
                if member in self._live_index:
                    return member
            order = list(self._live)
            self._rng.shuffle(order)
            self._probe_order = order
            self._probe_pos = 0
        return None

    def _random_members(
        self,
        k: int,
        include_recently_dead: bool,
        exclude: NodeId | None = None,
        now: float = 0.0,
    ) -> list[NodeId]:
        """Up to `k` distinct random members (alive or suspect; optionally recently dead)."""
        live = self._live
        recent: list[NodeId] = []
        if include_recently_dead and self._down_since:
            horizon = now - self.config.gossip_to_the_dead_s
            for member, since in reversed(self._down_since.items()):  # newest death first
                if since < horizon:
                    break
                recent.append(member)
        n_live = len(live)
        n = n_live + len(recent)
        excluded = 1 if exclude is not None and exclude in self._live_index else 0
        if n - excluded <= k:
            return [m for m in (*live, *recent) if m != exclude]
        chosen: list[NodeId] = []
        seen: set[int] = set()
        while len(chosen) < k:
            i = self._rng.randrange(n)
            if i in seen:
                continue
            seen.add(i)
            member = live[i] if i < n_live else recent[i - n_live]
            if member != exclude:
                chosen.append(member)
        return chosen

    def _heartbeat(self, src: NodeId, now: float) -> None:
        detector = self._detectors.get(src)
        if detector is None:
            cfg = self.config
            detector = PhiAccrualDetector(
                threshold=cfg.phi_threshold,
                max_sample_size=cfg.phi_max_samples,
                min_std_deviation=cfg.phi_min_std_s,
                acceptable_heartbeat_pause=cfg.phi_acceptable_pause_s,
                first_heartbeat_estimate=cfg.phi_first_heartbeat_s,
            )
            self._detectors[src] = detector
        detector.heartbeat(now)

    def _phi(self, member: NodeId, now: float) -> float:
        detector = self._detectors.get(member)
        return math.inf if detector is None else detector.phi(now)


def _transition_event(old: MemberState | None, news: Update) -> Event | None:
    """The notification for a change of `news.member` from state `old` to `news.state`."""
    member, inc, new = news.member, news.incarnation, news.state
    if new is ALIVE:
        if old is None or old is DEAD or old is LEFT:
            return MemberJoined(member, inc)
        return MemberAlive(member, inc) if old is SUSPECT else MemberUpdated(member, inc)
    if new is SUSPECT:
        return MemberSuspected(member, inc, news.origin)
    if new is DEAD:
        return MemberFailed(member, inc, news.origin) if old is not DEAD else None
    return MemberLeft(member, inc) if old is not LEFT else None
