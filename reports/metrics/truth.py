"""The ground truth of a run, from its `meta`, `host` and `impair` records: who is really up,
which nodes a fault affects and since when they are clear of faults, each node's up-time.

Also the node index every matrix of the metrics shares (`names[i]`, `index[name]`): a node gets
its row when a record first names it (`meta` lists the initial cluster; a joiner arrives with
its `host` record). Listeners added with `on_grow` resize their own arrays with it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from swimlab.protocol.trace_schema import MetaRecord

_INITIAL_CAPACITY = 64


class GroundTruth:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.names: list[str] = []
        self.up: npt.NDArray[np.bool_] = np.zeros(_INITIAL_CAPACITY, dtype=bool)
        self.n_up = 0
        self.initial: list[str] = []  # the cluster the run started with (`meta`)
        self.impairments: dict[str, int] = {}  # name -> how many faults affect it now
        self.clear_since: dict[str, float] = {}  # name -> when its last fault ended (or it came up)
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

    def host(self, t: float, name: str, going_up: bool) -> int | None:
        """A process went up or down: its row if that changed who is up, else None."""
        i = self.idx(name)
        self._integrate(t)
        if going_up == bool(self.up[i]):
            return None
        self.up[i] = going_up
        if going_up:
            self.n_up += 1
            self.up_since[name] = t
            self.clear_since[name] = t  # a fresh process carries no fault's after-effects
        else:
            self.n_up -= 1
            since = self.up_since.pop(name, None)
            if since is not None:
                self.uptime_s[name] = self.uptime_s.get(name, 0.0) + t - since
        return i

    def impair(self, t: float, name: str, on: bool) -> None:
        count = self.impairments.get(name, 0) + (1 if on else -1)
        self.impairments[name] = max(count, 0)
        if not on and count <= 0:
            self.clear_since[name] = t

    def finish(self, end_t: float) -> None:
        self._integrate(end_t)

    def _integrate(self, t: float) -> None:
        self.node_seconds += self.n_up * (t - self._last_t)
        self._last_t = t

    # Questions ----------------------------------------------------------------------------------
    def is_up(self, name: str) -> bool:
        i = self.index.get(name)
        return i is not None and bool(self.up[i])

    def affected(self, t: float, name: str, grace_s: float) -> bool:
        """A fault affects `name` now, or stopped less than `grace_s` ago (news of a deserved
        suspicion can still be travelling when a fault ends)."""
        return bool(self.impairments.get(name, 0)) or t - self.clear_since.get(name, 0.0) < grace_s

    def healthy(self, t: float, name: str, grace_s: float) -> bool:
        """Up, and no fault has affected it for `grace_s`."""
        return self.is_up(name) and not self.affected(t, name, grace_s)

    def uptime_until(self, end_t: float) -> dict[str, float]:
        """Each node's up-time over all its lives, counting the current one until `end_t`."""
        uptime = dict(self.uptime_s)
        for name, since in self.up_since.items():
            uptime[name] = uptime.get(name, 0.0) + end_t - since
        return uptime
