"""Load a scenario: find it (library name or path), apply `--set` overrides, validate it.

`load_scenario("crash_one", ["cluster.nodes=1000"])` returns a `Scenario` or raises
`ScenarioError` naming the file, the key and what was expected. Overrides are parsed as TOML
literals (`cluster.nodes=1000`, `network.loss=0.05`, `cluster.preset="local"`; a bare word that
is not TOML is taken as a string, so `cluster.preset=local` works too). Validation itself is
`schema.validate`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
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
    "portable_ref",
    "resolve",
    "validate",
    "validate_overridden",
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


def portable_ref(name_or_path: str) -> str:
    """How a reproduce command names a scenario without a machine path: a library name as
    typed; a relative path as typed; an absolute path by its library name when it is a library
    file, else by its file name (the page's scenario hash tells whether a file is the same)."""
    path = Path(name_or_path)
    if not path.is_absolute():
        return name_or_path
    entry = resources.files(__package__).joinpath(LIBRARY, path.name)
    if path.suffix == ".toml" and entry.is_file():
        try:
            if path.read_bytes() == entry.read_bytes():
                return path.stem
        except OSError:
            pass
    return path.name


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
    overrides = list(overrides)
    source, _text, raw = load_raw(name_or_path, overrides)
    return validate_overridden(raw, source, overrides)


def validate_overridden(raw: dict[str, Any], source: str, overrides: Sequence[str]) -> Scenario:
    """`validate`, with an error about a key a `--set` changed blamed on that `--set`."""
    try:
        return validate(raw, source, default_name=Path(source).stem)
    except ScenarioError as exc:
        raise blame_override(exc, overrides) from None


def blame_override(exc: ScenarioError, overrides: Sequence[str]) -> ScenarioError:
    """The error as the user should read it: `--set KEY=VALUE: key: expected ...` when the
    failing key is (inside, or holds) one a `--set` wrote; `FILE (after --set ...): ...` when
    the file's own value failed only because of an override; unchanged without overrides."""
    for text in reversed(overrides):  # the last --set of a key is the one that counts
        key = ".".join(parse_override(text)[0])
        path = exc.path
        if path and (path == key or path.startswith(key + ".") or key.startswith(path + ".")):
            return ScenarioError(f"--set {text}", exc.path, exc.expected, exc.got)
    if overrides:
        source = f"{exc.source} (after --set {', '.join(overrides)})"
        return ScenarioError(source, exc.path, exc.expected, exc.got)
    return exc
