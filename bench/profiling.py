"""Where a WISMO turn's CPU goes: cProfile over many turns, grouped by area and by function.

Only the event-loop thread is profiled, on its CPU clock: the sandbox (served in a thread, a separate service in
production) and aiosqlite's worker thread are not, so the areas add up to the agent's own CPU.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from pathlib import Path
from typing import Any

from bench.inprocess import FOLLOW_UP, WISMO, agent_turn, bench_runtime

# First match wins: more specific paths first.
AREAS: tuple[tuple[str, str], ...] = (
    ("langgraph/checkpoint", "checkpoint (serde, saver)"),
    ("ormsgpack", "checkpoint (serde, saver)"),
    ("aiosqlite", "checkpoint (serde, saver)"),
    ("langgraph/store", "store (conversation record, inbox)"),
    ("langgraph/", "langgraph (pregel loop, channels, streaming)"),
    ("agent/offline/", "offline model (classifier, policy)"),
    ("sklearn/", "offline model (classifier, policy)"),
    ("scipy/", "offline model (classifier, policy)"),
    ("numpy/", "offline model (classifier, policy)"),
    ("rapidfuzz", "offline model (classifier, policy)"),
    ("agent/view.py", "view / message conversion"),
    ("agent/messages.py", "view / message conversion"),
    ("agent/mirror.py", "helpdesk mirroring"),
    ("agent/", "agent (graph nodes, service)"),
    ("tools/", "tools"),
    ("integrations/", "vendor clients (parsing)"),
    ("langchain_core/", "langchain_core (messages, runnables, tools)"),
    ("langchain_openai", "langchain_core (messages, runnables, tools)"),
    ("pydantic", "pydantic validation / serialisation"),
    ("httpx/", "httpx / httpcore (HTTP to the vendors)"),
    ("httpcore/", "httpx / httpcore (HTTP to the vendors)"),
    ("h11/", "httpx / httpcore (HTTP to the vendors)"),
    ("anyio/", "httpx / httpcore (HTTP to the vendors)"),
    ("logging/", "logging"),
    ("asyncio/", "asyncio event loop"),
    ("selectors.py", "asyncio event loop"),
    ("threading.py", "thread hand-offs (aiosqlite, sandbox)"),
    ("concurrent/", "thread hand-offs (aiosqlite, sandbox)"),
    ("queue.py", "thread hand-offs (aiosqlite, sandbox)"),
    ("inspect.py", "inspect / typing / copy (introspection)"),
    ("typing.py", "inspect / typing / copy (introspection)"),
    ("copy.py", "inspect / typing / copy (introspection)"),
    ("dataclasses.py", "inspect / typing / copy (introspection)"),
    ("<frozen abc>", "inspect / typing / copy (introspection)"),
    ("json/", "json"),
    ("uuid", "uuid"),
)


def area_of(filename: str) -> str:
    for fragment, area in AREAS:
        if fragment in filename:
            return area
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C: sqlite, copy, re, …)"
    return "other"


def _label(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    for marker in ("site-packages/", "wt-bench/", "lib/python3.11/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{filename}:{line}({name})"


def summarise(stats: pstats.Stats, turns: int, top: int = 25) -> dict[str, Any]:
    """Exclusive CPU by area, and the top functions by exclusive and by inclusive time, per turn."""
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    by_area: dict[str, float] = {}
    for key, (_, _, tottime, _, _) in raw.items():
        area = area_of(key[0])
        by_area[area] = by_area.get(area, 0.0) + tottime
    total = sum(by_area.values())

    def per_turn(seconds: float) -> float:
        return round(seconds * 1000 / turns, 2)

    own = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    inclusive = sorted(raw.items(), key=lambda kv: kv[1][3], reverse=True)
    ours = [kv for kv in inclusive if any(p in kv[0][0] for p in ("/agent/", "/integrations/", "/tools/"))]
    return {
        "turns": turns,
        "profiled_cpu_ms_per_turn": per_turn(total),
        "by_area_ms_per_turn": {a: per_turn(s) for a, s in sorted(by_area.items(), key=lambda kv: -kv[1])},
        # The profiler roughly doubles the CPU; shares are what carry over to the unprofiled turn.
        "by_area_share_pct": {
            a: round(100 * s / total, 1) for a, s in sorted(by_area.items(), key=lambda kv: -kv[1])
        },
        "top_exclusive_ms_per_turn": {_label(k): per_turn(v[2]) for k, v in own},
        "top_inclusive_project_ms_per_turn": {_label(k): per_turn(v[3]) for k, v in ours[:top]},
        "calls_per_turn": {
            _label(k): round(v[1] / turns, 1)
            for k, v in sorted(raw.items(), key=lambda kv: kv[1][1], reverse=True)[:10]
        },
    }


async def run_profile(turns: int, out: Path, follow_up: bool = False) -> dict[str, Any]:
    """Profile `turns` fresh-conversation WISMO turns (warm: a few unprofiled turns first)."""
    async with bench_runtime() as runtime:
        for _ in range(5):
            await agent_turn(runtime, await runtime.service.start(), WISMO)
        # CPU time of this thread, not wall time: waiting in epoll for the sandbox is not cost.
        profiler = cProfile.Profile(time.thread_time)
        wall = 0.0
        for _ in range(turns):
            conversation_id = await runtime.service.start()
            if follow_up:
                await agent_turn(runtime, conversation_id, WISMO)
            begin = time.perf_counter()
            profiler.enable()
            await agent_turn(runtime, conversation_id, FOLLOW_UP if follow_up else WISMO)
            profiler.disable()
            wall += time.perf_counter() - begin
        out.parent.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(str(out))
        summary = summarise(pstats.Stats(profiler), turns)
        summary["wall_ms_per_turn_under_profiler"] = round(wall * 1000 / turns, 1)
        summary["pstats_file"] = str(out)
        return summary
