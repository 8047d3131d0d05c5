"""Imports only point down the layers of DESIGN.md §2; nothing imports server, evals or cli."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What each top-level package may import from the project.
ALLOWED: dict[str, set[str]] = {
    "integrations": {"integrations"},
    "sandbox": {"sandbox", "integrations"},  # only integrations.*.models, checked below
    "prompts": {"prompts"},
    "tools": {"tools", "integrations", "prompts"},
    "agent": {"agent", "tools", "integrations", "prompts", "sandbox"},
    "evals": {"evals", "agent", "tools", "integrations", "sandbox", "prompts"},
    "server": {"server", "agent", "tools", "integrations", "sandbox", "prompts"},
    "cli": {"cli", "server", "evals", "agent", "tools", "integrations", "sandbox", "prompts"},
}
PROJECT = set(ALLOWED)


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_imports_point_down() -> None:
    violations = []
    for package, allowed in ALLOWED.items():
        for path in (ROOT / package).rglob("*.py"):
            for line, module in _imports(path):
                top = module.split(".")[0]
                if top not in PROJECT:
                    continue
                where = f"{path.relative_to(ROOT)}:{line} imports {module}"
                if top not in allowed:
                    violations.append(where)
                elif package == "sandbox" and top == "integrations" and not module.endswith(".models"):
                    violations.append(where + " (sandbox may import only integrations.*.models)")
    assert violations == []
