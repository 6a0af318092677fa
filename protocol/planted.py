"""Planted bugs: realistic mistakes the fault search must find (test-only, never a config).

`ACTIVE` names the bugs switched on in this process. Nothing in a scenario file, `--set` or a
`Config` reaches it: the fault search's shards read the `SWIMLAB_PLANTED_BUGS` environment
variable (comma-separated names; `scenarios/search.py`) and tests set it directly. Empty, as it
always is in normal use, every planted branch is skipped and behaviour is unchanged.

- `refute_no_bump`: a refutation takes max(own, accused) instead of max(own, accused) + 1, so
  it does not outbid the accusation it answers;
- `suspicion_ignores_incarnation`: a due suspicion timer declares its member dead at whatever
  incarnation is held now, ignoring that the member refuted (a newer incarnation) meanwhile;
- `pushpull_older_wins`: a push-pull merge installs a peer's alive record even when it is older
  than the one held;
- `dead_never_reconnected`: the reconnect tick never contacts dead members, so a healed
  partition whose sides both declared the other dead never re-merges;
- `reconnect_random`: reconnect picks a dead member at random every interval: the code before
  the fix of `protocol/reconnect.py` (the real failure of issue 15), kept to measure that the
  search finds it.
"""

from __future__ import annotations

from typing import Final

BUGS: Final = (
    "refute_no_bump",
    "suspicion_ignores_incarnation",
    "pushpull_older_wins",
    "dead_never_reconnected",
    "reconnect_random",
)

ACTIVE: Final[set[str]] = set()
"""The planted bugs on in this process (mutated in place; `activate` checks the names)."""


def activate(names: str | set[str] | list[str] | tuple[str, ...]) -> None:
    """Switch on exactly `names` (a comma-separated string or a collection); unknown names raise."""
    wanted = {n.strip() for n in names.split(",")} if isinstance(names, str) else set(names)
    wanted.discard("")
    unknown = sorted(wanted - set(BUGS))
    if unknown:
        raise ValueError(f"unknown planted bug(s) {unknown}; known: {', '.join(BUGS)}")
    ACTIVE.clear()
    ACTIVE.update(wanted)
