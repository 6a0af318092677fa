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
    "reports": {"numpy", "matplotlib"},
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
    """(top-level module name, is at module level) for every import in `path`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top_level = {id(node) for node in tree.body}
    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                yield alias.name.split(".")[0], id(stmt) in top_level
        elif isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and stmt.module:
            yield stmt.module.split(".")[0], id(stmt) in top_level


@pytest.mark.parametrize("package", sorted(OURS))
def test_layer_imports_only_what_it_may(package):
    problems = []
    for path in modules(package):
        rel = path.relative_to(ROOT)
        for name, module_level in imports(path):
            if name in OURS:
                lazy_ok = name in LAZY_ONLY.get(package, set()) and not module_level
                if name not in MAY_IMPORT[package] and not lazy_ok:
                    problems.append(f"{rel}: imports {name}")
            elif name in sys.stdlib_module_names or name == "__future__":
                if package == "protocol" and name in FORBIDDEN_IN_PROTOCOL:
                    problems.append(f"{rel}: protocol/ must stay pure but imports {name}")
            elif name not in ALLOWED_THIRD_PARTY[package] and module_level:
                problems.append(f"{rel}: imports third-party {name} at module level")
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


def test_the_scan_catches_a_violation(tmp_path):
    """The rule can fail: a protocol module importing asyncio is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("import asyncio\nfrom sim import network\n")
    found = list(imports(bad))
    assert ("asyncio", True) in found and ("sim", True) in found
