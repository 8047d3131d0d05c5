"""The agent's topology: a LangGraph state machine (DESIGN.md §6).

The nodes live in `agent/nodes/` (one module per concern), the edges' decisions in
`agent/routing.py`; this module only lays them out. The README's diagram is drawn from the
compiled graph (`python -m agent.diagram`), and a test keeps the two equal.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import partial
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable
from langgraph._internal._runnable import RunnableCallable
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent import intents, routing
from agent.nodes.answer import answer
from agent.nodes.approval import apply_approval, await_approval, request_approval
from agent.nodes.classify import classify
from agent.nodes.confirm import await_confirmation, confirm
from agent.nodes.handoff import handoff
from agent.nodes.human import human, takeover
from agent.nodes.run_tools import run_tools
from agent.nodes.wiring import AgentDeps, ModelFailure, Wiring
from agent.state import AgentState

__all__ = ["AgentDeps", "ModelFailure", "build_graph"]

CompiledAgent = CompiledStateGraph[AgentState, None, AgentState, AgentState]


def _inline(route: Callable[[AgentState], Any]) -> Runnable[AgentState, Hashable | list[Hashable]]:
    """A routing decision run on the event loop. LangGraph runs a plain function given as a
    conditional edge in a worker thread when the graph runs async (a thread hop and a context copy
    per edge, ~6 a turn); these are pure reads of the state, so the async path calls them directly.
    The sync path (`graph.invoke`) and the edge's destinations are what they were."""

    async def arun(state: AgentState) -> Any:
        return route(state)

    return RunnableCallable(route, arun, name=route.__name__, trace=False)


def build_graph(
    model: BaseChatModel, deps: AgentDeps, checkpointer: BaseCheckpointSaver[Any] | None = None
) -> CompiledAgent:
    """Compile the support agent graph for a model, its dependencies and a checkpointer."""
    wiring = Wiring.build(model, deps)
    nodes = list(intents.node_intents())  # one per registered intent with tools of its own
    g: StateGraph[AgentState, None, AgentState, AgentState] = StateGraph(AgentState)

    g.add_node("takeover", takeover)
    g.add_node("classify", partial(classify, wiring=wiring))
    for intent in nodes:
        g.add_node(intent, partial(answer, wiring=wiring, intent=intent))
    g.add_node("confirm", partial(confirm, wiring=wiring))
    g.add_node("await_confirmation", await_confirmation)
    g.add_node("tools", partial(run_tools, wiring=wiring))
    g.add_node("request_approval", request_approval)
    g.add_node("await_approval", await_approval)
    g.add_node("apply_approval", partial(apply_approval, wiring=wiring))
    g.add_node("handoff", partial(handoff, wiring=wiring))
    g.add_node("human", human)

    g.add_conditional_edges(START, _inline(routing.route_start), ["takeover", "human", "classify"])
    g.add_conditional_edges("takeover", _inline(routing.after_takeover), ["human", END])
    g.add_conditional_edges("classify", _inline(routing.after_classify), ["handoff", *nodes])
    for intent in nodes:
        after = ["handoff", "confirm", "tools", "request_approval", *nodes, END]
        g.add_conditional_edges(intent, _inline(routing.after_answer), after)
    g.add_conditional_edges("confirm", _inline(routing.after_confirm), ["await_confirmation", "tools"])
    g.add_conditional_edges(
        "await_confirmation",
        _inline(routing.after_await_confirmation),
        ["human", "tools", "classify", *nodes],
    )
    g.add_conditional_edges("tools", _inline(routing.after_tools), ["handoff", *nodes])
    g.add_edge("request_approval", "await_approval")
    g.add_conditional_edges(
        "await_approval", _inline(routing.after_await_approval), ["apply_approval", "human", "await_approval"]
    )
    g.add_conditional_edges("apply_approval", _inline(routing.after_apply_approval), ["handoff", END])
    g.add_conditional_edges("handoff", _inline(routing.after_handoff), ["human", END])
    g.add_conditional_edges("human", _inline(routing.after_human), ["human", END])
    return g.compile(checkpointer=checkpointer, name="support-agent")
