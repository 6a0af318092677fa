"""The downing strategies by name, built from a `ManagerConfig` (`none`: never decides)."""

from __future__ import annotations

from dataclasses import dataclass

from .config import ManagerConfig
from .down_all import DownAll
from .downing import Situation, Strategy
from .keep_majority import KeepMajority
from .keep_oldest import KeepOldest
from .keep_referee import KeepReferee
from .lease_majority import LeaseMajority
from .static_quorum import StaticQuorum


@dataclass(frozen=True)
class NoDowning:
    """Never decides: the application view only (Akka without a downing provider)."""

    name: str = "none"

    def decide(self, s: Situation) -> None:
        return None


def strategy_for(config: ManagerConfig) -> Strategy:
    match config.strategy:
        case "none":
            return NoDowning()
        case "keep-majority":
            return KeepMajority()
        case "static-quorum":
            return StaticQuorum(config.quorum_size)
        case "keep-oldest":
            return KeepOldest(config.down_if_alone)
        case "keep-referee":
            return KeepReferee(config.referee, config.down_all_if_less_than_nodes)
        case "lease-majority":
            return LeaseMajority(config.lease_acquire_delay_for_minority_s)
        case "down-all":
            return DownAll()
