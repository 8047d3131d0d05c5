"""What each layer of a WISMO turn costs: variants that each remove one thing, measured interleaved.

For the engineers changing the graph, the service and the persistence: how much a superstep,
the checkpoint writes, the helpdesk mirroring and the conversation service add, on this machine.
The variants are experiments, not alternatives: some skip work a real turn must do.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from itertools import pairwise
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph

from agent import messages as msg
from agent.deps import Runtime
from bench.floor import FloorState, build_floor_graph, floor_turn
from bench.inprocess import WISMO, Samples, agent_turn, bench_runtime
from integrations.domain import Ticket
from integrations.ports import CommerceBackend, Shipping

Durability = Literal["sync", "async", "exit"]


async def graph_turn(runtime: Runtime, conversation_id: str, durability: Durability) -> None:
    """The compiled agent graph alone: no inbox, no state reads, no streaming, no view conversion."""
    graph_input = {
        "messages": [msg.shopper(WISMO, message_id=f"m-{uuid.uuid4().hex}")],
        "conversation_id": conversation_id,
        "status": "active",
    }
    await runtime.graph.ainvoke(
        graph_input, {"configurable": {"thread_id": conversation_id}}, durability=durability
    )


@asynccontextmanager
async def helpdesk_stubbed(runtime: Runtime) -> AsyncIterator[None]:
    """The helpdesk answers at once without a vendor call (what an outbox makes of the turn)."""
    helpdesk = runtime.services.helpdesk

    async def ensure_ticket(*, conversation_id: str, tags: Sequence[str], **_: Any) -> Ticket:
        return Ticket(id=f"stub-{conversation_id}", status="open", tags=tuple(tags))

    async def nothing(*_: Any, **__: Any) -> None:
        return None

    stubs = {"ensure_ticket": ensure_ticket, "post_messages": nothing, "post_message": nothing}
    for name, stub in stubs.items():
        setattr(helpdesk, name, stub)
    try:
        yield
    finally:
        for name in stubs:
            delattr(helpdesk, name)  # back to the class's methods


async def run_breakdown(turns: int, warmup: int = 5) -> dict[str, Any]:
    """Each variant `turns` times, interleaved, fresh conversation each time."""
    async with bench_runtime() as runtime:
        tools = runtime.services.tools
        checkpointer = runtime.persistence.checkpointer
        floor = build_floor_graph(tools.commerce, tools.shipping, checkpointer)
        flat = _flat_floor(tools.commerce, tools.shipping, checkpointer, supersteps=11)
        names = (
            "service_turn",
            "service_turn_helpdesk_stubbed",
            "graph_only_sync",
            "graph_only_exit",
            "graph_only_helpdesk_stubbed",
            "floor_3_steps",
            "floor_11_steps",
        )
        results = {name: Samples() for name in names}
        for index in range(warmup + turns):

            def bucket(name: str, measured: bool = index >= warmup) -> Samples:
                return results[name] if measured else Samples()

            await bucket("service_turn").time(
                partial(agent_turn, runtime, await runtime.service.start(), WISMO)
            )
            await bucket("graph_only_sync").time(
                partial(graph_turn, runtime, await runtime.service.start(), "sync")
            )
            await bucket("graph_only_exit").time(
                partial(graph_turn, runtime, await runtime.service.start(), "exit")
            )
            async with helpdesk_stubbed(runtime):
                conversation_id = await runtime.service.start()
                await bucket("service_turn_helpdesk_stubbed").time(
                    partial(agent_turn, runtime, conversation_id, WISMO)
                )
                conversation_id = await runtime.service.start()
                await bucket("graph_only_helpdesk_stubbed").time(
                    partial(graph_turn, runtime, conversation_id, "sync")
                )
            await bucket("floor_3_steps").time(partial(floor_turn, floor, f"f-{uuid.uuid4().hex}", WISMO))
            await bucket("floor_11_steps").time(partial(floor_turn, flat, f"f-{uuid.uuid4().hex}", WISMO))
        return {name: samples.summary() for name, samples in results.items()}


def _flat_floor(
    commerce: CommerceBackend, shipping: Shipping, checkpointer: BaseCheckpointSaver[Any], supersteps: int
) -> Any:
    """The floor's three nodes plus empty ones in one flat graph: `supersteps` checkpointed steps."""
    floor = build_floor_graph(commerce, shipping, checkpointer)
    builder = StateGraph(FloorState)
    nodes = floor.builder.nodes
    order = ["read", "look_up", "reply"] + [f"pad{i}" for i in range(supersteps - 3)]
    for name in order[:3]:
        builder.add_node(name, nodes[name].runnable)

    async def pad(state: FloorState) -> dict[str, Any]:
        return {}

    for name in order[3:]:
        builder.add_node(name, pad)
    builder.add_edge(START, order[0])
    for before, after in pairwise(order):
        builder.add_edge(before, after)
    builder.add_edge(order[-1], END)
    return builder.compile(checkpointer=checkpointer)
