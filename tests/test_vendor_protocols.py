"""Each adapter owns its vendor's protocol: the helpdesk's tag conventions live in its adapter only,
and the agent sees domain events and vendor-neutral requests (DESIGN.md §3)."""

from __future__ import annotations

import ast
from pathlib import Path

from integrations import helpdesk_tags as gorgias  # the tag conventions every helpdesk adapter shares
from sandbox.helpdesks import gorgias as gorgias_desk

ROOT = Path(__file__).resolve().parents[1]
# Where a vendor's protocol must not leak: everything above the integrations.
NEUTRAL = ("agent", "tools", "server", "prompts")


def _strings(path: Path) -> list[tuple[int, str]]:
    if path.suffix != ".py":
        return [(n, line) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_gorgias_tag_names_live_only_in_its_adapter() -> None:
    leaks = []
    for package in NEUTRAL:
        for path in sorted((ROOT / package).rglob("*")):
            if path.suffix not in (".py", ".md") or not path.is_file():
                continue
            for line, text in _strings(path):
                for tag in gorgias.PROTOCOL_TAGS:
                    if tag in text:
                        leaks.append(f"{path.relative_to(ROOT)}:{line} names {tag!r}")
    assert leaks == []


def test_the_agent_does_not_import_a_vendors_protocol() -> None:
    """Only the composition (`agent/deps.py`, `agent/helpdesks.py`, `agent/webhooks.py`, and
    `agent/startup_checks.py`, which checks the configured vendors' credentials at start-up) picks
    adapters; nothing else in `agent/` imports a vendor package."""
    composition = {
        ROOT / "agent" / f for f in ("deps.py", "helpdesks.py", "webhooks.py", "startup_checks.py")
    }
    vendors = {
        p.name for p in (ROOT / "integrations").iterdir() if p.is_dir() and (p / "__init__.py").exists()
    }
    offenders = []
    for path in (ROOT / "agent").rglob("*.py"):
        if path in composition:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[0] == "integrations" and len(parts) > 1 and parts[1] in vendors:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}")
    assert offenders == []


def test_the_sandbox_helpdesk_uses_the_adapters_tag_names() -> None:
    """The emulated team acts with the same tags the adapter reads (the sandbox keeps its own copy:
    it may import only `integrations.*.models`)."""
    assert gorgias_desk.HANDBACK_TAG == gorgias.HANDBACK_TAG
    assert gorgias_desk.APPROVED_TAG == gorgias.APPROVED_TAG
    assert gorgias_desk.DENIED_TAG == gorgias.DENIED_TAG
