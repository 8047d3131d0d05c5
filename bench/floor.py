"""The floor: a bare LangGraph graph doing a WISMO turn's essential work and nothing else.

Three supersteps (read the message, look the order and its parcel up, reply), checkpointed by the
same checkpointer with durability "sync", and two vendor calls through the agent's own sandbox
clients: find the order (Shopify) and track the parcel (EasyPost). The gap between this and the
real turn is what the agent adds on top of what any LangGraph WISMO bot has to do.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph

from integrations.ports import CommerceBackend, Shipping

_ORDER_NUMBER = re.compile(r"#?(\d{3,})")


class FloorState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    order_number: str | None
    found: dict[str, Any] | None


FloorGraph = CompiledStateGraph[FloorState, None, FloorState, FloorState]


def build_floor_graph(
    commerce: CommerceBackend, shipping: Shipping, checkpointer: BaseCheckpointSaver[Any]
) -> FloorGraph:
    """Compile the three-node floor graph on these clients and checkpointer."""

    async def read(state: FloorState) -> dict[str, Any]:
        last = state["messages"][-1]
        text = last.content if isinstance(last.content, str) else ""
        match = _ORDER_NUMBER.search(text)
        return {"order_number": match.group(1) if match else state.get("order_number")}

    async def look_up(state: FloorState) -> dict[str, Any]:
        number = state.get("order_number")
        order = await commerce.find_order(number) if number else None
        if order is None:
            return {"found": None}
        shipment = next((s for s in order.shipments if s.tracking_number), None)
        tracking = None
        if shipment is not None and shipment.tracking_number:
            status = await shipping.track(shipment.tracking_number, shipment.carrier)
            tracking = {
                "status": status.status,
                "eta": str(status.estimated_delivery),
                "carrier": status.carrier,
            }
        return {"found": {"number": order.number, "tracking": tracking}}

    async def reply(state: FloorState) -> dict[str, Any]:
        found = state.get("found")
        if not found or not found.get("tracking"):
            return {"messages": [AIMessage("I couldn't find that order.")]}
        tracking = found["tracking"]
        text = f"Order #{found['number']} is {tracking['status']} with {tracking['carrier']}, ETA {tracking['eta']}."
        return {"messages": [AIMessage(text)]}

    builder = StateGraph(FloorState)
    builder.add_node("read", read)
    builder.add_node("look_up", look_up)
    builder.add_node("reply", reply)
    builder.add_edge(START, "read")
    builder.add_edge("read", "look_up")
    builder.add_edge("look_up", "reply")
    builder.add_edge("reply", END)
    return builder.compile(checkpointer=checkpointer)


async def floor_turn(graph: FloorGraph, thread_id: str, text: str) -> str:
    """One shopper turn through the floor graph; returns its reply."""
    result = await graph.ainvoke(
        {"messages": [HumanMessage(text)]},
        {"configurable": {"thread_id": thread_id}},
        durability="sync",
    )
    last = result["messages"][-1]
    return str(last.content)
