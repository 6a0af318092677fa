"""The ground truth of a run, from its `meta`, `host`, `impair` and `grudge` records: who is
really up, which nodes a fault acts on and when one last did, who can reach whom (`links`), each
node's up-time, and the protocol configuration the run used (from `meta`).

A *node fault* acts on one node: `impair` records of every cause but `partition` (a partition
cuts links, not nodes: `links.py`), and a crash, from the moment the node went down until it is
back. A node is *healthy* over an interval when it is up and no node fault acted on it at any
instant of the interval.

Also the node index every matrix of the metrics shares (`names[i]`, `index[name]`): a node gets
its row when a record first names it (`meta` lists the initial cluster; a joiner arrives with
its `host` record). Listeners added with `on_grow` resize their own arrays with it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from swimlab.protocol.config import Config, preset
from swimlab.protocol.faults import Cause
from swimlab.protocol.trace_schema import MetaRecord

from .links import Links

_INITIAL_CAPACITY = 64


class GroundTruth:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.names: list[str] = []
        self.up: npt.NDArray[np.bool_] = np.zeros(_INITIAL_CAPACITY, dtype=bool)
        self.n_up = 0
        self.initial: list[str] = []  # the cluster the run started with (`meta`)
        self.config = Config()  # the run's protocol configuration (`meta`: preset + overrides)
        self.links = Links()
        self.node_faults: dict[str, set[str]] = {}  # name -> the node faults acting on it now
        self.fault_ended: dict[str, float] = {}  # name -> when a node fault last stopped acting on it
        self.uptime_s: dict[str, float] = {}  # name -> up-time of its finished lives
        self.up_since: dict[str, float] = {}  # name -> start of its current life
        self.node_seconds = 0.0  # up-time summed over nodes, up to `_last_t`
        self._last_t = 0.0
        self._grow_listeners: list[Callable[[int], None]] = []

    # The index ----------------------------------------------------------------------------------
    def on_grow(self, listener: Callable[[int], None]) -> None:
        """Call `listener(capacity)` whenever the index outgrows its arrays; calls it now too."""
        self._grow_listeners.append(listener)
        listener(self.up.shape[0])

    def idx(self, name: str) -> int:
        """`name`'s row, given one on first sight."""
        i = self.index.get(name)
        if i is None:
            i = self.index[name] = len(self.names)
            self.names.append(name)
            cap = self.up.shape[0]
            if i >= cap:
                self.up = np.concatenate([self.up, np.zeros(cap, dtype=bool)])
                for listener in self._grow_listeners:
                    listener(2 * cap)
        return i

    # Records ------------------------------------------------------------------------------------
    def meta(self, record: MetaRecord) -> None:
        self.initial = list(record.get("nodes", ()))
        for name in self.initial:
            self.idx(name)
        self.config = preset(record.get("preset", "lan"), **record.get("config_overrides", {}))

    def host(self, t: float, name: str, going_up: bool, restart: bool = False) -> int | None:
        """A process went up or down (`restart`: back after a crash): its row if that changed
        who is up, else None."""
        i = self.idx(name)
        self._integrate(t)
        self.links.host(t, name, going_up)
        if going_up == bool(self.up[i]):
            return None
        self.up[i] = going_up
        if going_up:
            self.n_up += 1
            self.up_since[name] = t
            if restart:
                self.fault_ended[name] = t  # the crash acted on it until now
        else:
            self.n_up -= 1
            since = self.up_since.pop(name, None)
            if since is not None:
                self.uptime_s[name] = self.uptime_s.get(name, 0.0) + t - since
        return i

    def impair(self, t: float, name: str, cause: str, on: bool) -> None:
        self.links.impair(t, name, cause, on)
        if cause == Cause.PARTITION:
            return  # a cut of links (the grudge record), not of the node
        acting = self.node_faults.setdefault(name, set())
        if on:
            acting.add(cause)
        elif cause in acting:
            acting.discard(cause)
            self.fault_ended[name] = t

    def finish(self, end_t: float) -> None:
        self._integrate(end_t)

    def _integrate(self, t: float) -> None:
        self.node_seconds += self.n_up * (t - self._last_t)
        self._last_t = t

    # Questions ----------------------------------------------------------------------------------
    def is_up(self, name: str) -> bool:
        i = self.index.get(name)
        return i is not None and bool(self.up[i])

    def healthy_since(self, name: str, since: float) -> bool:
        """Up now, and no node fault acted on it at any instant from `since` until now."""
        return (
            self.is_up(name)
            and not self.node_faults.get(name)
            and self.fault_ended.get(name, -np.inf) < since
        )

    def uptime_until(self, end_t: float) -> dict[str, float]:
        """Each node's up-time over all its lives, counting the current one until `end_t`."""
        uptime = dict(self.uptime_s)
        for name, since in self.up_since.items():
            uptime[name] = uptime.get(name, 0.0) + end_t - since
        return uptime
