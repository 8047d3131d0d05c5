"""Imports only point down the layers of DESIGN.md §2, the production path never imports the
emulator or the demo wiring, and no project module takes part in an import cycle.

Every `import` counts, wherever it is written: at the top of a module, inside a function (a lazy
import is still a dependency) or under `if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What each top-level package may import from the project.
ALLOWED: dict[str, set[str]] = {
    "integrations": {"integrations"},
    "sandbox": {"sandbox", "integrations"},  # only integrations.*.models, checked below
    "prompts": {"prompts"},
    "tools": {"tools", "integrations", "prompts"},
    "agent": {"agent", "tools", "integrations", "prompts"},
    "server": {"server", "agent", "tools", "integrations", "prompts"},
    # The demo wiring composes the production layers with the sandbox.
    "demo": {"demo", "server", "agent", "tools", "integrations", "sandbox", "prompts"},
    # Developer harnesses above the agent: they replay and measure it on the sandbox.
    "evals": {"evals", "demo", "agent", "tools", "integrations", "sandbox", "prompts"},
    "bench": {"bench", "demo", "server", "agent", "tools", "integrations", "sandbox", "prompts"},
    "cli": {"cli", "demo", "server", "evals", "agent", "tools", "integrations", "sandbox", "prompts"},
}
PROJECT = set(ALLOWED)
# The production path: what a real store runs. It never loads the emulator or the demo wiring.
PRODUCTION = ("server", "agent", "tools", "integrations")
DEMO_ONLY = {"sandbox", "demo"}


@dataclass(frozen=True)
class Import:
    at: str  # file:line
    module: str  # absolute dotted name (relative imports resolved)
    names: tuple[str, ...]  # for `from module import a, b`

    def where(self) -> str:
        return f"{self.at} imports {self.module}"


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path = ROOT) -> Iterator[Import]:
    """Every import statement of a file, at any depth (function bodies, `if` blocks...)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package.pop()
    relative = path.relative_to(root)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(f"{relative}:{node.lineno}", alias.name, ())
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield Import(f"{relative}:{node.lineno}", module, tuple(alias.name for alias in node.names))


def project_files() -> Iterator[tuple[str, Path]]:
    for package in ALLOWED:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield package, path


def test_imports_point_down() -> None:
    violations = []
    for package, path in project_files():
        for found in imports_of(path):
            top = found.module.split(".")[0]
            if top not in PROJECT:
                continue
            if top not in ALLOWED[package]:
                violations.append(found.where())
            elif package == "sandbox" and top == "integrations" and not found.module.endswith(".models"):
                violations.append(found.where() + " (sandbox may import only integrations.*.models)")
    assert violations == []


def test_the_production_path_never_imports_the_sandbox_or_the_demo_wiring() -> None:
    """No exceptions: not lazily inside a function, not for typing only."""
    offenders = [
        found.where()
        for package, path in project_files()
        if package in PRODUCTION
        for found in imports_of(path)
        if found.module.split(".")[0] in DEMO_ONLY
    ]
    assert offenders == []


def test_a_real_store_server_loads_neither_the_sandbox_nor_the_demo_wiring() -> None:
    """What the AST check promises, seen at run time: `serve` with SANDBOX_MODE=false builds its app
    (and imports everything its lifespan will need) without loading either package."""
    program = (
        "import sys\n"
        "from agent.settings import Settings\n"
        "from cli.serve_cmd import create_server_app\n"
        "create_server_app(Settings(_env_file=None, sandbox_mode=False))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sandbox', 'demo')))\n"
    )
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------- import cycles


def import_graph() -> dict[str, dict[str, str]]:
    """module -> {imported project module: where}. `from package import name` depends on the
    submodule `package.name` when there is one, else on the package itself."""
    modules = {module_name(path): path for _, path in project_files()}

    def existing(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, dict[str, str]] = {name: {} for name in modules}
    for name, path in modules.items():
        for found in imports_of(path):
            targets = [f"{found.module}.{n}" for n in found.names if f"{found.module}.{n}" in modules]
            if len(targets) < len(found.names) or not found.names:
                targets.append(existing(found.module) or "")
            for target in targets:
                if target and target != name:
                    graph[name].setdefault(target, found.at)
    return graph


def strongly_connected(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that import each other (size > 1)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for target in edges:
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    advanced = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def a_cycle(graph: dict[str, dict[str, str]], group: list[str]) -> list[str]:
    """One concrete cycle through a group's first module, as a path of modules (breadth-first)."""
    members = set(group)
    start = group[0]
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node]):
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if target in members and target not in parents:
                    parents[target] = node
                    following.append(target)
        frontier = following
    return group


def describe(graph: dict[str, dict[str, str]], cycle: list[str]) -> str:
    steps = [f"  {a} -> {b}  ({graph[a][b]})" for a, b in pairwise(cycle)]
    return "\n".join([" -> ".join(cycle), *steps])


def test_no_import_cycles() -> None:
    graph = import_graph()
    groups = strongly_connected(graph)
    report = "\n\n".join(describe(graph, a_cycle(graph, group)) for group in groups)
    assert not groups, f"import cycles among project modules:\n\n{report}"


def test_the_cycle_check_finds_and_reports_a_cycle() -> None:
    graph = {
        "a.one": {"a.two": "a/one.py:3"},
        "a.two": {"a.three": "a/two.py:5"},
        "a.three": {"a.one": "a/three.py:9", "b": "a/three.py:10"},
        "b": {},
    }

    groups = strongly_connected(graph)

    assert groups == [["a.one", "a.three", "a.two"]]
    assert describe(graph, a_cycle(graph, groups[0])) == (
        "a.one -> a.two -> a.three -> a.one\n"
        "  a.one -> a.two  (a/one.py:3)\n"
        "  a.two -> a.three  (a/two.py:5)\n"
        "  a.three -> a.one  (a/three.py:9)"
    )


def test_relative_and_lazy_imports_are_seen(tmp_path: Path) -> None:
    source = "def later():\n    from .sibling import thing\n    import sandbox.world\n"
    (tmp_path / "pkg").mkdir()
    path = tmp_path / "pkg" / "mod.py"
    path.write_text(source, encoding="utf-8")

    found = list(imports_of(path, tmp_path))

    assert [(i.at, i.module, i.names) for i in found] == [
        ("pkg/mod.py:2", "pkg.sibling", ("thing",)),
        ("pkg/mod.py:3", "sandbox.world", ()),
    ]
