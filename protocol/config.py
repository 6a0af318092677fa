"""Protocol configuration: one frozen dataclass and memberlist's three published presets.

The preset values are memberlist's `DefaultLANConfig`, `DefaultWANConfig` and
`DefaultLocalConfig` (all three keep TCP pings on: `fallback_ping`). Fields that memberlist does
not have (Lifeguard switches, the detector choice, Serf-style reconnect) are marked. Every
invalid value raises `ConfigError` naming the field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from .errors import ConfigError

Detector = Literal["swim", "phi"]
RetransmitFormula = Literal["memberlist", "seed"]


@dataclass(frozen=True, slots=True)
class Config:
    # Failure detection (SWIM §3/§4).
    probe_interval_s: float = 1.0
    probe_timeout_s: float = 0.5
    indirect_checks: int = 3
    # memberlist's TCP ping (`DisableTcpPings` = false in all three presets): when the direct
    # ping gets no ack in time, also ping the target over the reliable channel (node.py).
    fallback_ping: bool = True
    suspicion_mult: int = 4
    suspicion_max_timeout_mult: int = 6
    # Dissemination.
    retransmit_mult: int = 4
    retransmit_formula: RetransmitFormula = "memberlist"
    gossip_interval_s: float = 0.2
    gossip_nodes: int = 3
    gossip_to_the_dead_s: float = 30.0
    push_pull_interval_s: float = 30.0
    max_updates_per_message: int = 32
    packet_budget_bytes: int = 1400  # memberlist UDPBufferSize
    # Lifeguard (each switchable for ablation).
    awareness_max_multiplier: int = 8
    lifeguard_lhm: bool = True  # local health multiplier stretches a failing probe's deadline
    lifeguard_dynamic_suspicion: bool = True  # timeout shrinks with independent confirmations
    lifeguard_buddy: bool = True  # a ping to a suspect carries the suspicion
    lifeguard_nack: bool = True  # relays nack, and missing nacks count against our own health
    # Failure detector: fixed SWIM timeouts, or phi accrual gating the suspicion (Akka's formula).
    detector: Detector = "swim"
    phi_threshold: float = 8.0
    phi_max_samples: int = 200
    phi_min_std_s: float = 0.5
    phi_acceptable_pause_s: float = 0.0
    phi_first_heartbeat_s: float = 1.0
    # Dead members: kept as tombstones, retried (Serf's reconnect), then forgotten.
    reconnect_interval_s: float = 30.0  # not in memberlist: Serf's reconnect_interval
    dead_reclaim_s: float = 3600.0

    def __post_init__(self) -> None:
        _validate(self)

    def replace(self, **changes: Any) -> Config:
        """A copy with `changes`; unknown field names raise `ConfigError`."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ConfigError(f"unknown config field(s) {unknown}; known: {sorted(names)}")
        return dataclasses.replace(self, **changes)


def lan() -> Config:
    """memberlist DefaultLANConfig."""
    return Config()


def wan() -> Config:
    """memberlist DefaultWANConfig."""
    return Config(
        probe_interval_s=5.0,
        probe_timeout_s=3.0,
        suspicion_mult=6,
        push_pull_interval_s=60.0,
        gossip_nodes=4,
        gossip_interval_s=0.5,
        gossip_to_the_dead_s=60.0,
    )


def local() -> Config:
    """memberlist DefaultLocalConfig."""
    return Config(
        indirect_checks=1,
        retransmit_mult=2,
        suspicion_mult=3,
        push_pull_interval_s=15.0,
        probe_timeout_s=0.2,
        probe_interval_s=1.0,
        gossip_interval_s=0.1,
        gossip_to_the_dead_s=15.0,
    )


PRESETS = {"lan": lan, "wan": wan, "local": local}


def preset(name: str, **overrides: Any) -> Config:
    """The named preset with `overrides` applied."""
    try:
        base = PRESETS[name]()
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; expected one of {sorted(PRESETS)}") from None
    return base.replace(**overrides) if overrides else base


_POSITIVE = (
    "probe_interval_s",
    "probe_timeout_s",
    "gossip_interval_s",
    "push_pull_interval_s",
    "reconnect_interval_s",
    "phi_threshold",
    "phi_min_std_s",
    "phi_first_heartbeat_s",
)
_NON_NEGATIVE = (
    "gossip_to_the_dead_s",
    "dead_reclaim_s",
    "phi_acceptable_pause_s",
    "indirect_checks",
)
_AT_LEAST_ONE = (
    "suspicion_mult",
    "suspicion_max_timeout_mult",
    "retransmit_mult",
    "gossip_nodes",
    "max_updates_per_message",
    "awareness_max_multiplier",
    "phi_max_samples",
)


def _validate(c: Config) -> None:
    for f in dataclasses.fields(c):
        value = getattr(c, f.name)
        expected = {"float": (int, float), "int": (int,), "bool": (bool,)}.get(str(f.type))
        if expected and (
            not isinstance(value, expected) or (bool not in expected and isinstance(value, bool))
        ):
            raise ConfigError(f"config field {f.name!r}: expected {f.type}, got {value!r}")
    for name in _POSITIVE:
        if not getattr(c, name) > 0:
            raise ConfigError(f"config field {name!r}: expected > 0, got {getattr(c, name)!r}")
    for name in _NON_NEGATIVE:
        if not getattr(c, name) >= 0:
            raise ConfigError(f"config field {name!r}: expected >= 0, got {getattr(c, name)!r}")
    for name in _AT_LEAST_ONE:
        if not getattr(c, name) >= 1:
            raise ConfigError(f"config field {name!r}: expected >= 1, got {getattr(c, name)!r}")
    if c.probe_timeout_s > c.probe_interval_s:
        raise ConfigError(
            f"config field 'probe_timeout_s': expected <= probe_interval_s ({c.probe_interval_s}), "
            f"got {c.probe_timeout_s}"
        )
    if c.packet_budget_bytes < 256:
        raise ConfigError(f"config field 'packet_budget_bytes': expected >= 256, got {c.packet_budget_bytes}")
    if c.detector not in ("swim", "phi"):
        raise ConfigError(f"config field 'detector': expected 'swim' or 'phi', got {c.detector!r}")
    if c.retransmit_formula not in ("memberlist", "seed"):
        raise ConfigError(
            "config field 'retransmit_formula': expected 'memberlist' or 'seed', "
            f"got {c.retransmit_formula!r}"
        )
