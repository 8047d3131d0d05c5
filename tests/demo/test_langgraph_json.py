"""`langgraph.json` points LangGraph's tools (langgraph dev, Studio) at a graph that loads and runs."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from pathlib import Path
from types import FunctionType, ModuleType

from langchain_core.messages import HumanMessage

ROOT = Path(__file__).resolve().parents[2]


def _load_module() -> tuple[ModuleType, str]:
    config = json.loads((ROOT / "langgraph.json").read_text(encoding="utf-8"))
    path, _, attribute = config["graphs"]["support_agent"].partition(":")
    spec = importlib.util.spec_from_file_location("langgraph_json_graph", ROOT / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as LangGraph's loader does: dataclasses need the module registered
    spec.loader.exec_module(module)
    return module, attribute


def _load_graph() -> object:
    """What LangGraph's loader does: the module's variable (read from its `__dict__`), and when it is a
    function, a graph factory called without arguments."""
    module, attribute = _load_module()
    value = module.__dict__[attribute]
    return value() if isinstance(value, FunctionType) else value


def test_importing_the_langgraph_json_module_starts_nothing() -> None:
    before = {thread.name for thread in threading.enumerate()}
    module, attribute = _load_module()

    assert isinstance(module.__dict__[attribute], FunctionType)  # a factory: the graph is built when asked
    # No sandbox server thread yet (threads of earlier tests may finish meanwhile: only new ones count).
    assert {thread.name for thread in threading.enumerate()} - before == set()


def test_langgraph_json_graph_draws_every_route() -> None:
    graph = _load_graph()
    drawing = graph.get_graph()  # type: ignore[attr-defined]
    edges = {(e.source, e.target) for e in drawing.edges}
    assert ("__start__", "classify") in edges
    assert ("__start__", "takeover") in edges
    assert ("classify", "handoff") in edges
    assert ("confirm", "await_confirmation") in edges
    assert ("handoff", "human") in edges
    assert ("tools", "wismo") in edges
    assert ("refunds", "request_approval") in edges


async def test_langgraph_json_graph_answers_a_run_against_the_sandbox() -> None:
    graph = _load_graph()
    result = await graph.ainvoke(  # type: ignore[attr-defined]
        {
            "messages": [HumanMessage("where is order #1001? my email is ana.silva@example.com")],
            "conversation_id": "langgraph-json-test",
        }
    )
    assert result["intent"] == "wismo"
    assert result["customer"]["email"] == "ana.silva@example.com"
    reply = result["messages"][-1].content
    assert "UPS" in reply and "1Z84F2A90312345678" in reply


def test_notebooks_import_the_same_graph_built_once() -> None:
    from demo import studio
    from demo.studio import graph

    assert graph is studio.make_graph() is studio.default_graph()
    assert ("__start__", "classify") in {(e.source, e.target) for e in graph.get_graph().edges}
