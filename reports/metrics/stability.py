"""How stable the views are: every dead verdict raised, and flapping.

- `dead_raised`: per member, the instant of every `dead` verdict raised about it (the record
  of the node whose own timer ran out), deserved or not: "no dead verdicts in this window".
- A *flap*: an up node's view of a member goes down (dead or left) and back up while the member
  stayed up throughout (it never crashed or left in between) and the observer stayed up. A
  member's flaps whose intervals overlap make one episode (`Flap`: from the first going down to
  the last coming back, and how many observers flapped); a member still held down at the end has
  not flapped back (see `stays_dead`).
"""

from __future__ import annotations

from swimlab.protocol.trace_schema import HostHow, StateRecord

from ..schema import Flap
from .observer import Observer
from .truth import GroundTruth


class Stability(Observer):
    def __init__(self, truth: GroundTruth) -> None:
        self.truth = truth
        self.dead_raised: dict[str, list[float]] = {}
        self.down_in: dict[str, dict[str, float]] = {}  # member -> observer -> held down since
        self.flaps: dict[str, list[tuple[float, float]]] = {}  # member -> (down, up) per flap

    def on_state(self, t: float, record: StateRecord) -> None:
        if record["event"] == "dead" and record["accuser"] == record["node"]:
            self.dead_raised.setdefault(record["member"], []).append(round(t, 6))

    def on_view_entry(self, t: float, observer: str, member: str, believes_up: bool) -> None:
        if not believes_up:
            if self.truth.is_up(member):
                self.down_in.setdefault(member, {})[observer] = t
            return
        since = self.down_in.get(member, {}).pop(observer, None)
        if since is not None:
            self.flaps.setdefault(member, []).append((since, t))

    def on_host_down(self, t: float, name: str, how: HostHow) -> None:
        self.down_in.pop(name, None)  # it really went down: not a flap
        for held in self.down_in.values():
            held.pop(name, None)  # its own view stops counting

    def result(self) -> list[Flap]:
        out = []
        for member, flaps in self.flaps.items():
            flaps.sort()
            start, end, count = flaps[0][0], flaps[0][1], 0
            for down, up in flaps:
                if down > end:
                    out.append(Flap(member, round(start, 6), round(end, 6), count))
                    start, end, count = down, up, 0
                end = max(end, up)
                count += 1
            out.append(Flap(member, round(start, 6), round(end, 6), count))
        return sorted(out, key=lambda f: (f.down_t, len(f.member), f.member))
