"""The README's diagram is the compiled graph's."""

from __future__ import annotations

from agent import diagram


def test_readme_diagram_is_the_compiled_graph() -> None:
    text = diagram.README.read_text(encoding="utf-8")
    assert diagram.current_block(text) == diagram.readme_block(), (
        "README.md's graph diagram is out of date: run `python -m agent.diagram`"
    )


def test_diagram_shows_every_node_and_the_loops() -> None:
    source = diagram.mermaid()
    for node in ("classify", "wismo", "tools", "confirm", "await_confirmation", "handoff", "human"):
        assert f"\t{node}({node})" in source
    assert "human -.-> human;" in source  # silent while a person holds the conversation
    assert "tools -.-> wismo;" in source  # the tool loop
    assert "request_approval --> await_approval;" in source
