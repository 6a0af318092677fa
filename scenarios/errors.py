"""`ScenarioError`: what is wrong with a scenario, said as `FILE: key.path: expected X, got V`."""

from __future__ import annotations

from typing import Any


class ScenarioError(ValueError):
    """A scenario file is invalid. `str()` is the one-line message the CLI prints."""

    def __init__(self, source: str, path: str, expected: str, got: Any) -> None:
        self.source, self.path, self.expected, self.got = source, path, expected, got
        super().__init__(f"{source}: {path or '<top>'}: expected {expected}, got {got!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable, so a sweep worker can send it across a process boundary intact.
        return (type(self), (self.source, self.path, self.expected, self.got))
