"""One node's open suspicions: when each suspect is declared dead, and which timer still counts.

This module owns the suspicion bookkeeping of Lifeguard's dynamic suspicion (memberlist's
`suspicion.go`): for each suspected member, when the suspicion started, its current timeout
between `min_s` and `max_s`, the independent accusers seen so far (the first accuser is not a
confirmation; `k` confirmations bring the timeout down to `min_s`), and a token. Every (re)arming
of a suspicion takes a fresh token, so a `SuspicionTimeout` carrying an older one is stale: the
timer is never cancelled, it is recognised and ignored (`is_current`).

The math is `formulas.py`'s; the Node decides when a suspicion starts, is confirmed or ends.
Each method that arms a timer returns it as a `SetTimer` for the Node to emit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import Config
from .effects import SetTimer
from .formulas import remaining_suspicion_time, suspicion_timeout
from .messages import NodeId, Update
from .timers import SuspicionTimeout


@dataclass(slots=True)
class Suspicion:
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


class Suspicions:
    """Open suspicions by member, and the token counter that makes superseded timers stale."""

    __slots__ = ("_config", "_open", "_token")

    def __init__(self, config: Config) -> None:
        self._config = config
        self._open: dict[NodeId, Suspicion] = {}
        self._token = 0

    def start(self, news: Update, now: float, cluster_size: int) -> SetTimer:
        """Open (or replace) the suspicion `news` reports, with `cluster_size` members known."""
        cfg = self._config
        k = cfg.suspicion_mult - 2 if cfg.lifeguard_dynamic_suspicion else 0
        if cluster_size - 2 < k:
            k = 0  # too few members to expect independent confirmations
        min_s = suspicion_timeout(cfg.suspicion_mult, cluster_size, cfg.probe_interval_s)
        max_s = cfg.suspicion_max_timeout_mult * min_s if k >= 1 else min_s
        self._token += 1
        suspicion = Suspicion(news.incarnation, now, max_s, min_s, max_s, k, self._token, {news.origin})
        self._open[news.member] = suspicion
        return SetTimer(suspicion.deadline, SuspicionTimeout(news.member, news.incarnation, self._token))

    def confirm(self, news: Update, now: float) -> SetTimer | None:
        """Count an independent accuser and shrink the timeout as Lifeguard does; None if not new."""
        suspicion = self._open.get(news.member)
        if suspicion is None or suspicion.k < 1 or news.origin in suspicion.confirmers:
            return None
        confirmations = len(suspicion.confirmers)  # the first accuser is not a confirmation
        if confirmations > suspicion.k:
            return None
        suspicion.confirmers.add(news.origin)
        elapsed = now - suspicion.started_at
        remaining = remaining_suspicion_time(
            confirmations, suspicion.k, elapsed, suspicion.min_s, suspicion.max_s
        )
        suspicion.timeout_s = elapsed + remaining
        return self._rearm(news.member, suspicion, now)

    def end(self, member: NodeId) -> None:
        """The member is no longer suspect (refuted, dead, left or forgotten)."""
        self._open.pop(member, None)

    def is_current(self, timer: SuspicionTimeout) -> bool:
        """False for a timer whose suspicion has ended or been re-armed since."""
        suspicion = self._open.get(timer.member)
        return suspicion is not None and suspicion.token == timer.token

    def rearm_all(self, now: float) -> list[SetTimer]:
        """New timers for every open suspicion (after a restart lost the old ones), same deadlines."""
        return [self._rearm(member, suspicion, now) for member, suspicion in self._open.items()]

    def _rearm(self, member: NodeId, suspicion: Suspicion, now: float) -> SetTimer:
        self._token += 1
        suspicion.token = self._token
        return SetTimer(
            max(now, suspicion.deadline), SuspicionTimeout(member, suspicion.incarnation, self._token)
        )
