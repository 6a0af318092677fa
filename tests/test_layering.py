"""The import rule of DESIGN.md, enforced by scanning every module's imports.

protocol/ is pure (stdlib + msgpack; no I/O, clocks, threads or global randomness); sim/ and
live/ never import each other; reports/ never imports a runtime; scenarios/ reaches the
runtimes only lazily (inside a function), by runtime name.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"protocol", "sim", "live", "scenarios", "reports"}
FORBIDDEN_IN_PROTOCOL = {"asyncio", "socket", "time", "threading", "selectors", "simpy", "aioquic", "numpy"}
# Third-party packages each layer may import at module level (stdlib is always allowed).
ALLOWED_THIRD_PARTY = {
    "protocol": {"msgpack"},
    "sim": {"simpy", "numpy", "networkx", "hypothesis"},
    "live": {"aioquic", "cryptography"},
    "reports": {"numpy", "matplotlib", "msgspec"},
    "scenarios": {"tqdm"},
}
MAY_IMPORT = {
    "protocol": {"protocol"},
    "sim": {"protocol", "sim"},
    "live": {"protocol", "live"},
    "reports": {"protocol", "reports"},
    "scenarios": {"protocol", "reports", "scenarios"},
}
LAZY_ONLY = {"scenarios": {"sim", "live"}}


def modules(package):
    return sorted((ROOT / package).rglob("*.py"))


def imports(path):
    """(module name, is at module level) for every import in `path`.

    Our packages are imported as `swimlab.X` and reported as `X`; a bare `import protocol`
    is reported as `bare:protocol` (it would be someone else's package once installed).
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    top_level = {id(node) for node in tree.body}
    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.Import):
            names = [alias.name for alias in stmt.names]
        elif isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and stmt.module:
            names = [stmt.module]
        else:
            continue
        for dotted in names:
            parts = dotted.split(".")
            if parts[0] == "swimlab" and len(parts) > 1:
                yield parts[1], id(stmt) in top_level
            elif parts[0] in OURS:
                yield f"bare:{parts[0]}", id(stmt) in top_level
            else:
                yield parts[0], id(stmt) in top_level


def layer_problems(package, paths):
    """Every import in `paths` (modules of `package`) that breaks the import rule."""
    problems = []
    for path in paths:
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        for name, module_level in imports(path):
            if name.startswith("bare:"):
                problems.append(f"{rel}: imports {name[5:]} by its bare name (use swimlab.{name[5:]})")
            elif name in OURS:
                lazy_ok = name in LAZY_ONLY.get(package, set()) and not module_level
                if name not in MAY_IMPORT[package] and not lazy_ok:
                    problems.append(f"{rel}: imports {name}")
            elif name in sys.stdlib_module_names or name == "__future__":
                if package == "protocol" and name in FORBIDDEN_IN_PROTOCOL:
                    problems.append(f"{rel}: protocol/ must stay pure but imports {name}")
            elif name not in ALLOWED_THIRD_PARTY[package] and module_level:
                problems.append(f"{rel}: imports third-party {name} at module level")
    return problems


@pytest.mark.parametrize("package", sorted(OURS))
def test_layer_imports_only_what_it_may(package):
    problems = layer_problems(package, modules(package))
    assert not problems, "\n".join(problems)


def test_protocol_uses_no_global_randomness():
    """`random.Random` instances are injected; the module-level functions share hidden state."""
    problems = []
    for path in modules("protocol"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "random"
                and node.attr != "Random"
            ):
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: random.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "random":
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: from random import ...")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("package", "source", "expected"),
    [
        ("protocol", "import asyncio\n", "protocol/ must stay pure but imports asyncio"),
        ("sim", "from swimlab.live import endpoint\n", "imports live"),
        ("reports", "def f():\n    from swimlab.sim import network\n", "imports sim"),
        ("scenarios", "from swimlab.sim import network\n", "imports sim"),  # lazily only
        ("live", "import numpy\n", "imports third-party numpy at module level"),
        ("sim", "from protocol import node\n", "by its bare name"),
    ],
)
def test_the_rule_catches_a_violation(tmp_path, package, source, expected):
    """The rule itself can fail: each planted import is reported by `layer_problems`."""
    bad = tmp_path / "bad.py"
    bad.write_text(source)
    problems = layer_problems(package, [bad])
    assert len(problems) == 1 and expected in problems[0], problems


def test_the_rule_allows_a_lazy_runtime_import_in_scenarios(tmp_path):
    ok = tmp_path / "ok.py"
    ok.write_text("def run():\n    from swimlab.sim import simulation\n")
    assert layer_problems("scenarios", [ok]) == []
