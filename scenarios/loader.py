"""Load a scenario: find it (library name or path), apply `--set` overrides, validate it.

`load_scenario("crash_one", ["cluster.nodes=1000"])` returns a `Scenario` or raises
`ScenarioError` naming the file, the key and what was expected. Overrides are parsed as TOML
literals (`cluster.nodes=1000`, `network.loss=0.05`, `cluster.preset="local"`; a bare word that
is not TOML is taken as a string, so `cluster.preset=local` works too). Validation itself is
`schema.validate`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ScenarioError
from .overrides import apply_override, parse_override
from .schema import Scenario, check_override, validate

__all__ = [
    "Scenario",
    "ScenarioError",
    "apply_override",
    "check_override",
    "library_names",
    "load_raw",
    "load_scenario",
    "parse_override",
    "resolve",
    "validate",
]

LIBRARY = "library"


def library_names() -> list[str]:
    return sorted(
        p.name[:-5]
        for p in resources.files(__package__).joinpath(LIBRARY).iterdir()
        if p.name.endswith(".toml")
    )


def resolve(name_or_path: str) -> tuple[str, str]:
    """(source label, TOML text) for a library name or a file path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        try:
            return str(path), path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(str(path), "", "a readable scenario file", exc.strerror) from None
    entry = resources.files(__package__).joinpath(LIBRARY, f"{name_or_path}.toml")
    if not entry.is_file():
        raise ScenarioError(
            name_or_path,
            "",
            f"a library scenario ({', '.join(library_names())}) or a .toml path",
            name_or_path,
        )
    return f"{name_or_path}.toml", entry.read_text(encoding="utf-8")


def load_raw(name_or_path: str, overrides: Iterable[str] = ()) -> tuple[str, str, dict[str, Any]]:
    """The scenario file's source name, its text, and its TOML table with `--set` overrides applied."""
    source, text = resolve(name_or_path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "", "valid TOML", str(exc)) from None
    for override in overrides:
        keys, value = parse_override(override)
        apply_override(raw, keys, value)
    return source, text, raw


def load_scenario(name_or_path: str, overrides: Iterable[str] = ()) -> Scenario:
    source, _text, raw = load_raw(name_or_path, overrides)
    return validate(raw, source, default_name=Path(source).stem)
