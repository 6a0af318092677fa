"""What `swimlab races` runs: the shipped examples, or the models in the user's own files.

A file target is `FILE.py` or `FILE.py:NAME[,NAME...]`. Loading imports FILE.py as a module
named after the file, with its directory first on `sys.path` (so it may import its siblings),
and collects, in definition order, every module-level `Model` and every argument-free
`@race_test` function. `:NAME` selects among them by the name they are bound to. Every way this
can go wrong raises `TargetError` with one line saying what and where; the CLI prints it as
`error: ...`.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .model import Model


class TargetError(Exception):
    """A target that cannot be run: unknown name, missing file, failed import."""


@dataclass(frozen=True)
class Target:
    example: str  # the table's "model" column
    variant: str  # the table's "variant" column
    model: Model[Any]


def shipped_examples() -> dict[str, dict[str, Model[Any]]]:
    from .models import EXAMPLES

    return EXAMPLES


def shipped_targets(names: Sequence[str] | None) -> list[Target]:
    examples = shipped_examples()
    chosen = list(names) if names else list(examples)
    for name in chosen:
        if name not in examples:
            hint = ""
            if name.endswith(".py") or os.path.exists(name):
                hint = f" (a file of your own goes without --model: swimlab races {name})"
            raise TargetError(
                f"unknown example {name!r}{hint}; shipped examples: {', '.join(examples)}. "
                "To run your own models: swimlab races path/to/file.py[:NAME]"
            )
    return [Target(name, variant, model) for name in chosen for variant, model in examples[name].items()]


def _import_file(path: Path) -> ModuleType:
    name = path.stem
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) != str(path):
        name = f"swimlab_races_target_{len(sys.modules)}_{path.stem}"  # do not shadow a module
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TargetError(f"cannot import {path}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up here
    directory = str(path.parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        del sys.modules[name]
        raise TargetError(
            f"cannot import {path.name}: SyntaxError: {exc.msg} ({path.name}:{exc.lineno})"
        ) from None
    except Exception as exc:  # the user's module failed: say where, not a traceback
        del sys.modules[name]
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<")]
        where = f" ({os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
        raise TargetError(f"cannot import {path.name}: {type(exc).__name__}: {exc}{where}") from None
    return module


def _model_of(value: object) -> Model[Any] | None:
    if isinstance(value, Model):
        return value
    model = getattr(value, "race_model", None)
    return model if isinstance(model, Model) else None


def file_targets(spec: str) -> list[Target]:
    """The models a `FILE.py[:NAME,...]` target names (see the module docstring)."""
    file_part, _, names_part = spec.partition(":")
    path = Path(file_part)
    if not path.exists():
        examples = shipped_examples()
        hint = f" (to run the shipped example, use --model {file_part})" if file_part in examples else ""
        raise TargetError(f"no such file: {file_part}{hint}")
    if path.suffix != ".py":
        raise TargetError(f"{file_part}: expected a Python file (FILE.py[:NAME])")
    module = _import_file(path.resolve())
    found: dict[str, Model[Any]] = {}
    needs_args: list[str] = []
    seen: set[int] = set()
    for attr, value in vars(module).items():
        if attr.startswith("_"):
            continue
        model = _model_of(value)
        if model is not None and id(model) not in seen:
            seen.add(id(model))
            found[attr] = model
        elif getattr(value, "race_model", "absent") is None:
            needs_args.append(attr)
    wanted = [n.strip() for n in names_part.split(",") if n.strip()] if names_part else list(found)
    if not wanted:
        raise TargetError(
            f"{path.name} defines no Model and no argument-free @race_test function"
            + (f" ({', '.join(needs_args)} take arguments)" if needs_args else "")
        )
    targets = []
    for name in wanted:
        if name in needs_args:
            raise TargetError(
                f"{path.name}:{name} takes arguments (pytest fixtures?); the command line runs "
                "only argument-free @race_test functions and Models"
            )
        if name not in found:
            what = type(getattr(module, name)).__name__ if hasattr(module, name) else None
            known = ", ".join(found) or "nothing runnable"
            if what is not None:
                raise TargetError(f"{path.name}:{name} is a {what}, not a Model or a @race_test function")
            raise TargetError(f"{path.name} has no model named {name!r}; it defines: {known}")
        model = found[name]
        is_race_test = not isinstance(module.__dict__[name], Model)
        targets.append(Target(path.stem if is_race_test else model.name, name, model))
    return targets
