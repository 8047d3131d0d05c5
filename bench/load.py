"""Closed-loop HTTP load: N shoppers, each starting a conversation and asking where order #1001 is.

Then what the helpdesk was left with: the outbox backlog from `/healthz` (when the server reports
one), how long it takes to drain, the Gorgias 429s served meanwhile, and whether every
conversation's ticket holds all its messages, once, in order.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.inprocess import WISMO
from bench.stats import ms, percentile

SLOW_SECONDS = 10.0
REQUEST_TIMEOUT = httpx.Timeout(120.0, connect=30.0, pool=120.0)


@dataclass
class LoadRecord:
    """What the shoppers saw."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    # conversation id -> ids of the messages its turn returned, in order (for the ticket check)
    conversations: dict[str, list[str]] = field(default_factory=dict)
    started: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] += 1


def _error_kind(response: httpx.Response) -> str:
    try:
        code = response.json().get("error")
    except ValueError:
        code = None
    return f"{response.status_code} {code}" if code else str(response.status_code)


async def _shopper(client: httpx.AsyncClient, deadline: float, record: LoadRecord) -> None:
    while time.monotonic() < deadline:
        try:
            started = await client.post("/api/conversations", json={})
        except httpx.HTTPError as exc:
            record.error(f"start: {type(exc).__name__}")
            await asyncio.sleep(0.1)  # a refused connection would otherwise spin
            continue
        if not started.is_success:
            record.error(f"start: {_error_kind(started)}")
            continue
        record.started += 1
        conversation_id = started.json()["id"]
        token = started.json().get("token", "")
        begin = time.monotonic()
        try:
            turn = await client.post(
                f"/api/conversations/{conversation_id}/messages",
                json={"text": WISMO},
                headers={"Accept": "application/json", "Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as exc:
            record.error(f"turn: {type(exc).__name__}")
            await asyncio.sleep(0.1)
            continue
        elapsed = time.monotonic() - begin
        if not turn.is_success:
            record.error(f"turn: {_error_kind(turn)}")
            continue
        record.latencies.append(elapsed)
        record.conversations[conversation_id] = [m["id"] for m in turn.json().get("messages", [])]


async def _own_connection(base_url: str, deadline: float, record: LoadRecord) -> None:
    """A shopper with a client (a connection) of its own, as each browser has.

    One client shared by 200 shoppers kept the load generator itself busy: httpx looks through its
    pool's connections for a free one on every request, and with 200 of them the generator took a
    whole core at ~100 requests/s. Its own queueing then showed up as shoppers' latency (bursts and
    stalls, the first wave twice as slow as later ones) while the server sat partly idle."""
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
        await _shopper(client, deadline, record)


async def _outbox(client: httpx.AsyncClient) -> dict[str, Any] | None:
    """The `/healthz` outbox report, or None while the server has none."""
    try:
        health = (await client.get("/healthz")).json()
    except (httpx.HTTPError, ValueError):
        return None
    outbox = health.get("outbox") if isinstance(health, dict) else None
    return outbox if isinstance(outbox, dict) else None


async def _rejected_429(sandbox: httpx.AsyncClient) -> int | None:
    response = await sandbox.get("/_sandbox/gorgias/rate-limit")
    if not response.is_success:
        return None
    value: int = response.json()["rejected_429"]
    return value


async def _drain(
    client: httpx.AsyncClient, sandbox: httpx.AsyncClient, within_seconds: float
) -> dict[str, Any]:
    """Wait for the outbox backlog to reach 0; report the backlog, the time and the 429s meanwhile."""
    before_429 = await _rejected_429(sandbox)
    outbox = await _outbox(client)
    if outbox is None:
        return {"backlog_at_end": "n/a", "oldest_age_s": "n/a", "drain_s": "n/a", "drain_429s": "n/a"}
    backlog_at_end, oldest = outbox.get("backlog"), outbox.get("oldest_age_seconds")
    begin = time.monotonic()
    drained: float | None = None
    while time.monotonic() - begin < within_seconds:
        if outbox is not None and outbox.get("backlog") == 0:
            drained = time.monotonic() - begin
            break
        await asyncio.sleep(1.0)  # polling a status endpoint, once a second
        outbox = await _outbox(client)
    after_429 = await _rejected_429(sandbox)
    return {
        "backlog_at_end": backlog_at_end,
        "oldest_age_s": oldest,
        "drain_s": round(drained, 1) if drained is not None else f"> {within_seconds:.0f} (not drained)",
        "drain_429s": after_429 - before_429 if before_429 is not None and after_429 is not None else "n/a",
    }


async def _check_tickets(sandbox: httpx.AsyncClient, conversations: dict[str, list[str]]) -> dict[str, Any]:
    """Every answered conversation has a ticket with each of its messages once, in order."""
    response = await sandbox.get("/_sandbox/tickets")
    if not response.is_success:  # no sandbox mounted at /sandbox: nothing to check against
        return {"conversations": len(conversations), "ok": "n/a"}
    tickets = response.json()
    by_conversation = {t.get("external_id"): t for t in tickets}
    missing = incomplete = duplicated = disordered = 0
    for conversation_id, expected in conversations.items():
        ticket = by_conversation.get(conversation_id)
        if ticket is None:
            missing += 1
            continue
        wanted = set(expected)
        seen = [m.get("external_id") for m in ticket.get("messages", []) if m.get("external_id") in wanted]
        if len(seen) != len(set(seen)):
            duplicated += 1
        elif set(seen) != wanted:
            incomplete += 1
        elif seen != expected:
            disordered += 1
    checked = len(conversations)
    ok = checked - missing - incomplete - duplicated - disordered
    return {
        "conversations": checked,
        "ok": ok,
        "missing_ticket": missing,
        "incomplete": incomplete,
        "duplicated": duplicated,
        "out_of_order": disordered,
    }


async def run_level(
    base_url: str, shoppers: int, duration: float, drain_timeout: float, sandbox_url: str | None = None
) -> dict[str, Any]:
    """One closed-loop level against a running server, then its drain and ticket check. The sandbox
    is the one mounted at `/sandbox` (demo mode) unless `sandbox_url` names a separate one."""
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT) as client,
        httpx.AsyncClient(base_url=sandbox_url or f"{base_url}/sandbox", timeout=REQUEST_TIMEOUT) as sandbox,
    ):
        start_429 = await _rejected_429(sandbox)
        record = LoadRecord()
        begin = time.monotonic()
        deadline = begin + duration
        await asyncio.gather(*(_own_connection(base_url, deadline, record) for _ in range(shoppers)))
        elapsed = time.monotonic() - begin  # includes the turns in flight at the deadline
        end_429 = await _rejected_429(sandbox)
        drain = await _drain(client, sandbox, drain_timeout)
        tickets = await _check_tickets(sandbox, record.conversations)
    turns = len(record.latencies)
    return {
        "shoppers": shoppers,
        "duration_s": round(elapsed, 1),
        "turns": turns,
        "turns_per_s": round(turns / elapsed, 2) if elapsed else None,
        "p50_ms": ms(percentile(record.latencies, 50)),
        "p95_ms": ms(percentile(record.latencies, 95)),
        "max_ms": ms(max(record.latencies, default=None)),
        "errors": sum(record.errors.values()),
        "error_kinds": dict(record.errors.most_common()),
        "turns_over_10s": sum(1 for t in record.latencies if t > SLOW_SECONDS),
        "load_429s": end_429 - start_429 if start_429 is not None and end_429 is not None else "n/a",
        **drain,
        "tickets": tickets,
    }
