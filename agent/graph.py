"""The agent's topology: a LangGraph state machine (DESIGN.md §6).

The nodes live in `agent/nodes/` (one module per concern), the edges' decisions in
`agent/routing.py`; this module only lays them out. The README's diagram is drawn from the
compiled graph (`python -m agent.diagram`), and a test keeps the two equal.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from langchain_core.language_models import BaseChatModel
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

    g.add_conditional_edges(START, routing.route_start, ["takeover", "human", "classify"])
    g.add_conditional_edges("takeover", routing.after_takeover, ["human", END])
    g.add_conditional_edges("classify", routing.after_classify, ["handoff", *nodes])
    for intent in nodes:
        after = ["handoff", "confirm", "tools", "request_approval", *nodes, END]
        g.add_conditional_edges(intent, routing.after_answer, after)
    g.add_conditional_edges("confirm", routing.after_confirm, ["await_confirmation", "tools"])
    g.add_conditional_edges(
        "await_confirmation", routing.after_await_confirmation, ["human", "tools", "classify", *nodes]
    )
    g.add_conditional_edges("tools", routing.after_tools, ["handoff", *nodes])
    g.add_edge("request_approval", "await_approval")
    g.add_conditional_edges(
        "await_approval", routing.after_await_approval, ["apply_approval", "human", "await_approval"]
    )
    g.add_conditional_edges("apply_approval", routing.after_apply_approval, ["handoff", END])
    g.add_conditional_edges("handoff", routing.after_handoff, ["human", END])
    g.add_conditional_edges("human", routing.after_human, ["human", END])
    return g.compile(checkpointer=checkpointer, name="support-agent")
