"""In-process WISMO turn: the real conversation service next to the bare-LangGraph floor.

Both run in the same process, on the same sandbox clients and the same SQLite checkpointer,
interleaved turn by turn so that both see the same machine conditions.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from agent.deps import Runtime
from agent.settings import Settings
from bench.floor import FloorGraph, build_floor_graph, floor_turn
from bench.stats import ms, percentile
from demo.runtime import DemoRuntime, open_demo_runtime
from sandbox.vendors.gorgias import CallLimiter

WISMO = "Where is my order #1001? ana.silva@example.com"
FOLLOW_UP = "Thanks. Where is order #1001 now?"


@dataclass
class Samples:
    """Per-turn wall time and CPU time (the event-loop thread only, and the whole process)."""

    wall: list[float] = field(default_factory=list)
    loop_cpu: list[float] = field(default_factory=list)
    process_cpu: list[float] = field(default_factory=list)

    async def time(self, work: Callable[[], Awaitable[Any]]) -> Any:
        wall, loop_cpu, process_cpu = time.perf_counter(), time.thread_time(), time.process_time()
        result = await work()
        self.wall.append(time.perf_counter() - wall)
        self.loop_cpu.append(time.thread_time() - loop_cpu)
        self.process_cpu.append(time.process_time() - process_cpu)
        return result

    def summary(self) -> dict[str, Any]:
        n = len(self.wall)
        return {
            "turns": n,
            "p50_ms": ms(percentile(self.wall, 50)),
            "p95_ms": ms(percentile(self.wall, 95)),
            "loop_cpu_ms_mean": ms(sum(self.loop_cpu) / n) if n else None,
            "process_cpu_ms_mean": ms(sum(self.process_cpu) / n) if n else None,
        }


@asynccontextmanager
async def bench_runtime(directory: Path | None = None) -> AsyncIterator[DemoRuntime]:
    """The real runtime on the sandbox (`open_demo_runtime`): sandbox served in a thread, offline model, a fresh SQLite file.

    The helpdesk outbox's background worker is off: a turn records its mirroring work and the worker
    would deliver it between turns, competing for the same 2 cores as the turn and the floor alike,
    which measures the machine's load rather than the turn (the HTTP load keeps the worker, and the
    real Gorgias limit). The sandbox's Gorgias limit is lifted for the breakdown's helpdesk calls.
    """
    with tempfile.TemporaryDirectory(prefix="bench-", dir=directory) as tmp:
        settings = Settings(
            sqlite_path=Path(tmp) / "bench.sqlite",
            database_url=None,
            model="offline",
            sandbox_mode=True,
            helpdesk_sync_worker=False,
        )
        async with open_demo_runtime(settings) as runtime:
            runtime.sandbox_app.state.gorgias_call_limiter = CallLimiter(limit=1_000_000_000)
            yield runtime


async def agent_turn(runtime: Runtime, conversation_id: str, text: str) -> list[dict[str, Any]]:
    """One shopper turn through the conversation service; returns the `done` event's messages."""
    done: dict[str, Any] = {}
    async for event in runtime.service.send(conversation_id, text):
        if event.type == "error":
            raise RuntimeError(f"turn failed: {event.data}")
        if event.type == "done":
            done = event.data
    messages: list[dict[str, Any]] = done.get("messages", [])
    return messages


def floor_graph(runtime: Runtime) -> FloorGraph:
    """The floor on the runtime's own clients and checkpointer."""
    tools = runtime.services.tools
    return build_floor_graph(tools.commerce, tools.shipping, runtime.persistence.checkpointer)


async def run_inprocess(turns: int, warmup: int = 5) -> dict[str, Any]:
    """`turns` fresh-conversation WISMO turns plus a follow-up each, agent and floor interleaved."""
    async with bench_runtime() as runtime:
        floor = floor_graph(runtime)
        results = {name: Samples() for name in ("agent", "agent_follow_up", "floor", "floor_follow_up")}
        reply = ""
        for index in range(warmup + turns):
            measured = index >= warmup
            conversation_id = await runtime.service.start()
            thread_id = f"floor-{uuid.uuid4().hex}"
            first = results["agent"] if measured else Samples()
            messages = await first.time(partial(agent_turn, runtime, conversation_id, WISMO))
            reply = messages[-1]["text"] if messages else ""
            follow = results["agent_follow_up"] if measured else Samples()
            await follow.time(partial(agent_turn, runtime, conversation_id, FOLLOW_UP))
            floor_first = results["floor"] if measured else Samples()
            await floor_first.time(partial(floor_turn, floor, thread_id, WISMO))
            floor_follow = results["floor_follow_up"] if measured else Samples()
            await floor_follow.time(partial(floor_turn, floor, thread_id, FOLLOW_UP))
        summary: dict[str, Any] = {name: samples.summary() for name, samples in results.items()}
        agent_p50, floor_p50 = summary["agent"]["p50_ms"], summary["floor"]["p50_ms"]
        follow_p50, floor_follow_p50 = (
            summary["agent_follow_up"]["p50_ms"],
            summary["floor_follow_up"]["p50_ms"],
        )
        summary["ratio_p50"] = round(agent_p50 / floor_p50, 2) if agent_p50 and floor_p50 else None
        summary["ratio_follow_up_p50"] = (
            round(follow_p50 / floor_follow_p50, 2) if follow_p50 and floor_follow_p50 else None
        )
        summary["reply_sample"] = reply[:160]
        summary["notes"] = (
            "sandbox served in a thread of this process (its CPU is in process_cpu, not loop_cpu); "
            "Gorgias limit lifted in-process; SQLite checkpointer shared by agent and floor"
        )
        return summary
