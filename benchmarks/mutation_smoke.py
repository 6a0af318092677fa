"""Mutation smoke run over the pure core: do the tests notice when the protocol code is wrong?

Each mutant changes one thing in one module of protocol/ (a comparison flipped, a constant
nudged, `and`/`or` swapped, a `not` dropped, an arithmetic operator swapped, a statement
dropped, a table entry swapped for its neighbour: verdicts, lifecycle outcomes and phases,
member states, notifications) and runs that module's fast tests with `-x`. A mutant the tests
fail on is killed; one they pass is a survivor, printed with file:line so it can be judged
(a missing test, or an equivalent change). A mutant that runs past the timeout, or breaks the
module's import, counts as killed and is printed too (a hung loop or a table the Node refuses
to compile is noticed, but is worth a look).

Speed: mutants are applied in memory, never written to disk. The parent imports pytest and
hypothesis once and forks a child per mutant; the child serves the mutated module through an
import hook and runs pytest in-process, so a mutant costs its tests plus ~0.3 s.

    python benchmarks/mutation_smoke.py                  # the CI smoke run: a seeded sample
    python benchmarks/mutation_smoke.py --budget 0       # every mutant (minutes)
    python benchmarks/mutation_smoke.py --files node.py --list

Exit status: 0 when the kill rate is at least `--min-kill` (default 0.8), 1 otherwise.
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib.abc
import importlib.machinery
import importlib.util
import os
import random
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, ModuleType

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "swimlab.protocol"

# module → the fast tests that must notice a change in it (run with -x, fastest first).
TESTS: dict[str, list[str]] = {
    "precedence.py": ["tests/test_precedence.py", "tests/test_notifications.py"],
    "formulas.py": ["tests/test_formulas.py"],
    "gossip_queue.py": ["tests/test_gossip_queue.py"],
    "lifecycle.py": ["tests/test_lifecycle.py"],
    "notifications.py": ["tests/test_notifications.py"],
    "timers.py": ["tests/test_lifecycle.py"],
    "reconnect.py": ["tests/test_reconnect.py", "tests/test_node_edges.py", "tests/test_node.py"],
    "members.py": [
        "tests/test_members.py",
        "tests/test_roster.py",
        "tests/test_node_edges.py",
        "tests/test_node.py",
        "tests/test_lifecycle.py",
        "tests/test_cluster.py",
    ],
    "suspicion.py": [
        "tests/test_suspicion.py",
        "tests/test_node_edges.py",
        "tests/test_node.py",
        "tests/test_cluster.py",
    ],
    "node.py": [
        "tests/test_node_edges.py",
        "tests/test_node.py",
        "tests/test_roster.py",
        "tests/test_reconnect.py",
        "tests/test_lifecycle.py",
        "tests/test_notifications.py",
        "tests/test_cluster.py",
    ],
}

# Names that stand for one value of a small set: a table entry swapped for its neighbour.
SIBLINGS: list[tuple[str, ...]] = [
    ("I", "P", "C", "R"),  # precedence verdicts
    ("RUN", "DROP", "REFUSE"),
    ("NEW", "RUNNING", "LEFT"),
    ("A", "S", "D", "L"),
    ("ALIVE", "SUSPECT", "DEAD"),
    ("joined", "alive_again", "updated", "suspected", "failed", "left", "removed"),
    ("START", "JOIN", "LEAVE", "RECOVER"),  # lifecycle inputs, as Input.X
    ("MESSAGE", "TIMER", "GOSSIP_TICK"),
]
_SIBLING = {name: group for group in SIBLINGS for name in group}

_COMPARE_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_BINOP_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
}


@dataclass(frozen=True)
class Mutant:
    file: str
    index: int  # the index-th mutation point of the file, in AST walk order
    line: int
    what: str

    def label(self) -> str:
        return f"protocol/{self.file}:{self.line}: {self.what}"


class _Mutator(ast.NodeTransformer):
    """Walks a module; counts mutation points; applies the one numbered `target` (or none)."""

    def __init__(self, target: int = -1) -> None:
        self.target = target
        self.count = 0
        self.found: list[tuple[int, str]] = []
        self._docstrings: set[int] = set()
        self._in_function = 0

    def _point(self, node: ast.AST, what: str) -> bool:
        index = self.count
        self.count += 1
        self.found.append((getattr(node, "lineno", 0), what))
        return index == self.target

    def visit_Module(self, node: ast.Module) -> ast.AST:
        self._note_docstring(node.body)
        return self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self._note_docstring(node.body)  # decorators (dataclass options) are not mutated
        node.body = [self.visit(stmt) for stmt in node.body]
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self._note_docstring(node.body)
        node.args = self.visit(node.args)  # defaults are mutation points; annotations are not
        self._in_function += 1
        node.body = self._statements(node.body)
        self._in_function -= 1
        return node

    def _note_docstring(self, body: list[ast.stmt]) -> None:
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            self._docstrings.add(id(body[0].value))

    def _statements(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in body:
            droppable = isinstance(stmt, ast.Expr | ast.Assign | ast.AugAssign | ast.Return | ast.Raise)
            docstring = id(getattr(stmt, "value", None)) in self._docstrings
            if droppable and not docstring and self._point(stmt, f"drop `{ast.unparse(stmt)[:60]}`"):
                out.append(ast.copy_location(ast.Pass(), stmt))
                continue
            visited = self.visit(stmt)
            out.append(visited)
        return out or [ast.Pass()]

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for field, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt) and self._in_function:
                setattr(node, field, self._statements(value))
            elif isinstance(value, list):
                setattr(node, field, [self.visit(v) if isinstance(v, ast.AST) else v for v in value])
            elif isinstance(value, ast.AST):
                setattr(node, field, self.visit(value))
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None:
            node.value = self.visit(node.value)
        return node  # the annotation is not code

    def visit_arg(self, node: ast.arg) -> ast.AST:
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for i, op in enumerate(node.ops):
            swap = _COMPARE_SWAP.get(type(op))
            if swap is not None and self._point(node, f"{type(op).__name__} -> {swap.__name__}"):
                node.ops[i] = swap()
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        swap = _BINOP_SWAP.get(type(node.op))
        if swap is not None and self._point(node, f"{type(node.op).__name__} -> {swap.__name__}"):
            node.op = swap()
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        if self._point(node, f"{type(node.op).__name__} -> {other.__name__}"):
            node.op = other()
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and self._point(node, "drop `not`"):
            return node.operand
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if id(node) in self._docstrings or isinstance(value, str | bytes) or value is None:
            return node
        if isinstance(value, bool):
            new: bool | int | float = not value
        elif isinstance(value, int):
            new = value + 1 if value != 1 else 0
        elif isinstance(value, float):
            new = value + 1.0 if value == 0.0 else value * 2
        else:
            return node
        if self._point(node, f"{value!r} -> {new!r}"):
            return ast.copy_location(ast.Constant(new), node)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        group = _SIBLING.get(node.attr)
        if group is not None and isinstance(node.ctx, ast.Load):
            new = group[(group.index(node.attr) + 1) % len(group)]
            if self._point(node, f".{node.attr} -> .{new}"):
                node.attr = new
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        group = _SIBLING.get(node.id)
        if group is not None and isinstance(node.ctx, ast.Load):
            new = group[(group.index(node.id) + 1) % len(group)]
            if self._point(node, f"{node.id} -> {new}"):
                return ast.copy_location(ast.Name(new, ast.Load()), node)
        return node


def mutants_of(file: str) -> list[Mutant]:
    mutator = _Mutator()
    mutator.visit(ast.parse((ROOT / "protocol" / file).read_text()))
    return [Mutant(file, i, line, what) for i, (line, what) in enumerate(mutator.found)]


def mutated_code(mutant: Mutant) -> CodeType:
    path = ROOT / "protocol" / mutant.file
    tree = ast.parse(path.read_text())
    mutator = _Mutator(mutant.index)
    tree = ast.fix_missing_locations(mutator.visit(copy.deepcopy(tree)))
    return compile(tree, str(path), "exec")


class _MutantFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, fullname: str, path: Path, code: CodeType) -> None:
        self.fullname, self.path, self.code = fullname, path, code

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.fullname:
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=str(self.path))

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        module.__file__ = str(self.path)
        exec(self.code, module.__dict__)  # the mutant under test


def run_child(mutant: Mutant | None, tests: Sequence[str]) -> int:
    """In a forked child: serve the mutant, run the tests quietly, return pytest's exit code."""
    import pytest

    if mutant is not None:
        fullname = f"{PACKAGE}.{mutant.file.removesuffix('.py')}"
        finder = _MutantFinder(fullname, ROOT / "protocol" / mutant.file, mutated_code(mutant))
        sys.meta_path.insert(0, finder)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    args = ["-x", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", "-o", "addopts=", *tests]
    return int(pytest.main(args))


def run(mutant: Mutant | None, timeout_s: float) -> tuple[str, float]:
    """Fork, run, reap: ('killed' | 'survived' | 'timeout' | 'error:N', seconds)."""
    tests = TESTS[mutant.file] if mutant is not None else sorted({t for ts in TESTS.values() for t in ts})
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            code = run_child(mutant, tests)
        finally:
            os._exit(code)
    deadline = t0 + timeout_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", time.perf_counter() - t0
        time.sleep(0.01)
    code = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - t0
    if code == 0:
        return "survived", elapsed
    if code == 1:
        return "killed", elapsed  # tests failed
    return f"error:{code}", elapsed  # collection or import error: the mutant broke the module


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=200, help="mutants to run (0: all)")
    parser.add_argument("--seed", type=int, default=1, help="which sample of mutants")
    parser.add_argument("--files", nargs="*", default=sorted(TESTS), help="modules of protocol/")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once")
    parser.add_argument(
        "--timeout", type=float, default=20.0, help="seconds before a mutant counts as killed (hung)"
    )
    parser.add_argument("--min-kill", type=float, default=0.8)
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    args = parser.parse_args(argv)

    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    # Warm the parent once (pytest, hypothesis, msgpack, the test helpers' dependencies): each
    # child then starts from an interpreter that has them. swimlab.protocol is NOT imported
    # here, so each child imports the mutated module afresh.
    import hypothesis  # noqa: F401
    import msgpack  # type: ignore[import-untyped]  # noqa: F401
    import pytest  # noqa: F401

    assert not any(m.startswith(PACKAGE) for m in sys.modules), "the parent must not import the core"

    every = [m for f in args.files for m in mutants_of(f)]
    budget = len(every) if args.budget <= 0 else min(args.budget, len(every))
    chosen = random.Random(args.seed).sample(every, budget)
    chosen.sort(key=lambda m: (m.file, m.index))
    if args.list:
        for m in chosen:
            print(m.label())
        print(f"{len(chosen)} of {len(every)} mutants")
        return 0

    t0 = time.perf_counter()
    baseline, took = run(None, args.timeout * 4)
    if baseline != "survived":
        print(f"the unmutated tests do not pass ({baseline}); nothing to measure")
        return 2
    print(
        f"{len(chosen)} of {len(every)} mutants in {len(args.files)} modules; "
        f"the unmutated tests pass in {took:.1f} s"
    )
    results: dict[Mutant, str] = {}
    for outcome, mutant in _parallel(chosen, args.jobs, args.timeout):
        results[mutant] = outcome
    survivors = [m for m in chosen if results[m] == "survived"]
    kinds = [v.split(":")[0] for v in results.values()]
    counts = {k: kinds.count(k) for k in ("killed", "timeout", "error")}
    killed = len(chosen) - len(survivors)
    rate = killed / len(chosen) if chosen else 1.0
    print(
        f"killed {killed}/{len(chosen)} ({rate:.0%}): {counts['killed']} by a failing test, "
        f"{counts['timeout']} by timeout, {counts['error']} by an import error; "
        f"{len(survivors)} survived; {time.perf_counter() - t0:.0f} s"
    )
    for mutant in chosen:
        if results[mutant] != "killed":
            print(f"  {results[mutant]:9s} {mutant.label()}")
    return 0 if rate >= args.min_kill else 1


def _parallel(chosen: list[Mutant], jobs: int, timeout_s: float) -> Iterator[tuple[str, Mutant]]:
    """Run up to `jobs` mutants at once, each in its own forked child."""
    if jobs <= 1:
        for mutant in chosen:
            yield run(mutant, timeout_s)[0], mutant
        return
    from concurrent.futures import ThreadPoolExecutor

    # Threads only wait on forked children; the forks themselves do the work on other cores.
    with ThreadPoolExecutor(jobs) as pool:
        for mutant, (outcome, _) in zip(chosen, pool.map(lambda m: run(m, timeout_s), chosen), strict=True):
            yield outcome, mutant


if __name__ == "__main__":
    sys.exit(main())
