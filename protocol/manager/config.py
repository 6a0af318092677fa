"""The cluster manager's settings, and which of them apply to which downing strategy.

Defaults are Akka's where Akka has the setting (`stable-after` 20 s, a 1 s tick, down-all-when-
unstable on at 3/4 of stable-after, keep-oldest's down-if-alone on, lease-majority's 2 s
acquire delay for the minority, a 5 s lease operation timeout, a 120 s lease heartbeat timeout).
`STRATEGY_KEYS` names the settings only one strategy reads; giving one to another strategy is
an error (`check_applies`), never silently ignored. Every invalid value raises `ConfigError`
naming the field.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from ..errors import ConfigError
from ..messages import NodeId

Strategy = Literal[
    "none", "keep-majority", "static-quorum", "keep-oldest", "keep-referee", "lease-majority", "down-all"
]
STRATEGIES: Final[tuple[Strategy, ...]] = (
    "none",
    "keep-majority",
    "static-quorum",
    "keep-oldest",
    "keep-referee",
    "lease-majority",
    "down-all",
)
SAFE_STRATEGIES: Final[tuple[Strategy, ...]] = (
    "keep-majority",
    "static-quorum",
    "keep-oldest",
    "keep-referee",
    "lease-majority",
    "down-all",
)
"""Strategies that must never leave two mutually unreachable sides serving past the window
(`none` decides nothing: it is the baseline that shows the split brain)."""

UnreachableOn = Literal["suspect", "dead"]


@dataclass(frozen=True, slots=True)
class ManagerConfig:
    strategy: Strategy = "keep-majority"
    stable_after_s: float = 20.0  # no decision until the view has not changed for this long
    settle_s: float = 1.0  # a member's reachability must hold this long to change the view
    tick_s: float = 1.0  # how often the manager looks (view, decision, gossip)
    unreachable_on: UnreachableOn = "suspect"  # the SWIM state that makes a member unreachable
    down_all_when_unstable_s: float | None = None  # None: 3/4 of stable_after (Akka's "on"); 0: off
    removal_margin_s: float | None = None  # Down -> Removed after this (None: stable_after_s)
    leave_when_downed: bool = True  # a downed node leaves SWIM (Akka: coordinated shutdown)
    partition_threshold: float = 0.5  # the PartitionDetector's threshold (reachable / members)
    gossip_fanout: int = 1  # members sent the manager's state each tick (+1 unreachable or downed)
    # static-quorum
    quorum_size: int = 0
    # keep-oldest
    down_if_alone: bool = True
    # keep-referee
    referee: NodeId = ""
    down_all_if_less_than_nodes: int = 1
    # lease-majority
    lease_acquire_delay_for_minority_s: float = 2.0
    lease_timeout_s: float = 5.0  # no answer within this: not acquired
    lease_ttl_s: float = 120.0  # the lease expires this long after it was (re)acquired

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def unstable_after_s(self) -> float | None:
        """Instability lasting longer than this downs everything (None: never)."""
        extra = self.down_all_when_unstable_s
        if extra == 0.0 or self.strategy == "none":
            return None
        return self.stable_after_s + (0.75 * self.stable_after_s if extra is None else extra)

    @property
    def removal_after_s(self) -> float:
        return self.stable_after_s if self.removal_margin_s is None else self.removal_margin_s

    def replace(self, **changes: Any) -> ManagerConfig:
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ConfigError(f"unknown manager setting(s) {unknown}; known: {sorted(names)}")
        return dataclasses.replace(self, **changes)


STRATEGY_KEYS: Final[Mapping[str, Strategy]] = {
    "quorum_size": "static-quorum",
    "down_if_alone": "keep-oldest",
    "referee": "keep-referee",
    "down_all_if_less_than_nodes": "keep-referee",
    "lease_acquire_delay_for_minority_s": "lease-majority",
    "lease_timeout_s": "lease-majority",
    "lease_ttl_s": "lease-majority",
}
"""setting -> the one strategy that reads it."""


def check_applies(strategy: str, given: Mapping[str, Any]) -> None:
    """`ConfigError` for a setting in `given` that `strategy` does not read."""
    for key in given:
        owner = STRATEGY_KEYS.get(key)
        if owner is not None and owner != strategy:
            raise ConfigError(f"manager setting {key!r} applies to strategy {owner!r} only, not {strategy!r}")


def _validate(c: ManagerConfig) -> None:
    if c.strategy not in STRATEGIES:
        raise ConfigError(
            f"manager setting 'strategy': expected one of {list(STRATEGIES)}, got {c.strategy!r}"
        )
    if c.unreachable_on not in ("suspect", "dead"):
        raise ConfigError(
            f"manager setting 'unreachable_on': expected 'suspect' or 'dead', got {c.unreachable_on!r}"
        )
    for name in ("stable_after_s", "settle_s", "lease_acquire_delay_for_minority_s"):
        _number(name, getattr(c, name), low=0.0)
    for name in ("tick_s", "lease_timeout_s", "lease_ttl_s"):
        _number(name, getattr(c, name), low=0.0, open_low=True)
    for name in ("down_all_when_unstable_s", "removal_margin_s"):
        if getattr(c, name) is not None:
            _number(name, getattr(c, name), low=0.0)
    _number("partition_threshold", c.partition_threshold, low=0.0, high=1.0)
    for name, low in (("gossip_fanout", 1), ("quorum_size", 0), ("down_all_if_less_than_nodes", 1)):
        value = getattr(c, name)
        if type(value) is not int or value < low:
            raise ConfigError(f"manager setting {name!r}: expected an int >= {low}, got {value!r}")
    for name in ("leave_when_downed", "down_if_alone"):
        if type(getattr(c, name)) is not bool:
            raise ConfigError(f"manager setting {name!r}: expected true or false, got {getattr(c, name)!r}")
    if c.strategy == "static-quorum" and c.quorum_size < 1:
        raise ConfigError(
            f"manager setting 'quorum_size': static-quorum needs a quorum >= 1, got {c.quorum_size}"
        )
    if c.strategy == "keep-referee" and not c.referee:
        raise ConfigError("manager setting 'referee': keep-referee needs the referee's node name")


def _number(name: str, value: Any, low: float, high: float = math.inf, open_low: bool = False) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if open_low else value >= low) and value <= high
    if not ok:
        bound = f"> {low}" if open_low else f">= {low}" if high == math.inf else f"in [{low}, {high}]"
        raise ConfigError(f"manager setting {name!r}: expected a number {bound}, got {value!r}")
