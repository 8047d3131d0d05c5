"""Replay eval cases against the real agent runtime and a fresh sandbox world, and score them.

One `Replayer` wraps one runtime (`demo.runtime.open_demo_runtime`: the graph, the conversation
service, every vendor client pointed at its own sandbox served on loopback). Between cases the
world is reset to the case's seed through the sandbox control API, so a case always starts
from the same state; several replayers run cases side by side with `workers > 1`.

Shopper turns go through `ConversationService.send`, exactly as the chat server sends them.
Human agent actions go through the sandbox's `/_sandbox/tickets/...` routes; the webhook the
emulated helpdesk sends is captured, verified and parsed by the helpdesk adapter, and its events
go to `ConversationService.helpdesk_event` on the replay's own event loop (the sandbox serves
from another thread).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.runnables import RunnableConfig
from langchain_core.tracers.context import register_configure_hook
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from agent import intents as intent_registry
from agent import messages as msg
from agent.cards import Card
from agent.persistence import Persistence
from agent.settings import Settings
from agent.view import chat_messages
from agent.webhooks import receive_helpdesk_webhook
from demo.runtime import IN_PROCESS_WEBHOOK, DemoRuntime, open_demo_runtime
from evals import scoring
from evals.codes import with_codes
from evals.effects import Changes, changes
from evals.loading import LoadedCase, build_seed
from evals.models import Case, Expect, Turn, parse_clock
from evals.results import Check, RunCounts, RunResult, ToolCallRecord, TranscriptMessage, TurnRecord, Usage
from integrations.events import WebhookRejected
from sandbox.vendors.bigcommerce import Quota
from sandbox.vendors.gorgias import CallLimiter
from sandbox.vendors.shopify_graphql import configure_cost_bucket
from sandbox.webhooks import encode_body
from sandbox.world import World, diff_json
from tools.registry import spec_by_name

ACTION_ROUTES = {
    "human_reply": "reply",
    "close_ticket": "close",
    "handback": "handback",
    "approve_refund": "approve",
    "deny_refund": "deny",
}
ACTION_WORDS = {
    "human_reply": "A human agent replies on the helpdesk ticket",
    "close_ticket": "The human agent closes the helpdesk ticket",
    "handback": "The human agent hands the conversation back to the bot",
    "approve_refund": "The human agent approves the refund",
    "deny_refund": "The human agent denies the refund",
    "clock": "The clock moves to",
}
RESULT_CHARS = 600
DIFF_VALUE_CHARS = 300


class HarnessError(Exception):
    """The replay could not go on (not a failed expectation: a broken case or harness)."""


# ---------------------------------------------------------------------------- model usage


class UsageCounter(BaseCallbackHandler):
    """Counts chat model calls and their token usage (from `usage_metadata` where reported)."""

    run_inline = True

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.usage = Usage()

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kwargs: Any
    ) -> None:
        with self._lock:
            self.usage.model_calls += 1

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        prompt = completion = 0
        for generations in response.generations:
            for generation in generations:
                if isinstance(generation, ChatGeneration) and isinstance(generation.message, AIMessage):
                    meta = generation.message.usage_metadata
                    if meta:
                        prompt += meta.get("input_tokens", 0)
                        completion += meta.get("output_tokens", 0)
        if not prompt and not completion and response.llm_output:
            usage = response.llm_output.get("token_usage") or {}
            prompt = int(usage.get("prompt_tokens") or 0)
            completion = int(usage.get("completion_tokens") or 0)
        with self._lock:
            self.usage.prompt_tokens += prompt
            self.usage.completion_tokens += completion


_usage_counter: contextvars.ContextVar[UsageCounter | None] = contextvars.ContextVar(
    "eval_usage_counter", default=None
)
# Every model call made in a context where the variable is set reports to that counter.
register_configure_hook(_usage_counter, inheritable=True)


# ---------------------------------------------------------------------------- reading graph state


def _outcome(result: ToolMessage | None) -> tuple[str, str]:
    if result is None:
        return "pending", ""
    text = msg.text_of(result)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return ("error" if result.status == "error" else "ok"), text[:RESULT_CHARS]
    if isinstance(data, dict) and data.get("ok") is False:
        return f"refused:{data.get('code')}", text[:RESULT_CHARS]
    return ("error" if result.status == "error" else "ok"), text[:RESULT_CHARS]


def tool_call_records(new: Sequence[AnyMessage], everything: Sequence[AnyMessage]) -> list[ToolCallRecord]:
    """The tool calls in `new`, each with its result from anywhere in `everything`."""
    results = {m.tool_call_id: m for m in everything if isinstance(m, ToolMessage)}
    records: list[ToolCallRecord] = []
    for message in new:
        if not isinstance(message, AIMessage) or msg.is_human_agent(message):
            continue
        for call in message.tool_calls:
            call_id = call.get("id") or ""
            outcome, text = _outcome(results.get(call_id))
            spec = spec_by_name(call["name"])
            records.append(
                ToolCallRecord(
                    id=call_id,
                    name=call["name"],
                    args=dict(call["args"]),
                    mutates=bool(spec and spec.mutates),
                    outcome=outcome,
                    result=text,
                )
            )
    return records


def _card_type(card: Card | None) -> str | None:
    return card.type if card else None


def _short(value: Any) -> Any:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return value if len(text) <= DIFF_VALUE_CHARS else text[:DIFF_VALUE_CHARS] + "…"


def compact_diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """The world diff with long values cut, for the reports."""
    rows = []
    for change in diff_json(before, after):
        if change["path"] == "/next_id":
            continue  # the id counter moves with every record: noise
        rows.append({**change, "before": _short(change["before"]), "after": _short(change["after"])})
    return rows


# ---------------------------------------------------------------------------- one replayer


class Replayer:
    """Replays cases one at a time on one runtime (one sandbox world)."""

    def __init__(self, runtime: DemoRuntime, http: httpx.AsyncClient) -> None:
        self.runtime = runtime
        self.app = runtime.sandbox_app
        self.http = http
        self._webhooks: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        # Many conversations in a row: the vendors' rate limits would only slow the suite down.
        configure_cost_bucket(self.app, enabled=False)
        self.app.state.gorgias_call_limiter = CallLimiter(limit=1_000_000)
        self.app.state.zendesk_call_limiter = CallLimiter(limit=1_000_000, window_seconds=60.0)
        self.app.state.front_call_limiter = CallLimiter(limit=1_000_000, window_seconds=60.0)
        self.app.state.intercom_call_limiter = CallLimiter(limit=1_000_000, window_seconds=10.0)
        self.app.state.bigcommerce_quota = Quota(quota=1_000_000)
        self.app.state.webhook_sender = self._capture_webhook

    async def _capture_webhook(self, url: str, headers: dict[str, str], body: dict[str, Any]) -> int:
        # Called on the sandbox's thread: only queue it, the replay's loop delivers it.
        self._webhooks.append((url, dict(headers), body))
        return 200

    @property
    def world(self) -> World:
        world: World = self.app.state.world
        return world

    def _config(self, conversation_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": conversation_id}}

    # -------------------------------------------------------------- world

    async def prepare(self, case: Case, base_dir: Path) -> None:
        self.app.state.seed = build_seed(case.world, base_dir)
        response = await self.http.post("/_sandbox/reset")
        response.raise_for_status()
        world = self.world
        if case.world.clock_shift_days:
            world.clock = world.clock + timedelta(days=case.world.clock_shift_days)
        world.faults = [fault.model_copy() for fault in case.world.faults]
        self.runtime.services.commerce.clear_cache()
        if self.runtime.guards is not None:
            # A fresh store: no lock-outs, labels or hand-off counts from the cases before.
            await self.runtime.guards.clear()
        if self.runtime.sms is not None:
            await self.runtime.sms.facts.clear()  # no opt-out or SMS thread from the cases before
        self._webhooks.clear()

    # -------------------------------------------------------------- by SMS

    async def _by_sms(self, conversation_id: str, phone: str) -> None:
        """The case's conversation is the one this number's texts belong to."""
        sms = self.runtime.sms
        if sms is None:
            raise HarnessError("the case texts (sms_from) but SMS is off (SMS_ENABLED=false)")
        await self.runtime.service.annotate(conversation_id, channel="sms", phone=phone)
        await sms.facts.bind_thread(phone, conversation_id, self.world.now().timestamp())

    async def _text(self, phone: str, text: str, record: TurnRecord) -> None:
        """The shopper texts the store's number: through the sandbox's Twilio, signed, to the agent."""
        response = await self.http.post("/_sandbox/sms/inbound", json={"from": phone, "body": text})
        if response.status_code != 200:
            raise HarnessError(f"the sandbox refused the text: {response.status_code} {response.text[:200]}")
        status = response.json()["webhook"]["status"]
        if status != 200:
            record.errors.append(f"the agent answered the Twilio webhook with {status}")

    # -------------------------------------------------------------- helpdesk actions

    async def _deliver_webhooks(self) -> None:
        helpdesk = self.runtime.services.helpdesk
        while self._webhooks:
            url, headers, body = self._webhooks.pop(0)
            if url != IN_PROCESS_WEBHOOK:
                raise HarnessError(f"the helpdesk webhook points at {url}, not the in-process service")
            try:
                await receive_helpdesk_webhook(helpdesk, self.runtime.service, headers, encode_body(body))
            except WebhookRejected as exc:
                raise HarnessError("the helpdesk webhook secret does not match the agent's setting") from exc

    async def helpdesk_action(self, conversation_id: str, turn: Turn) -> str:
        await self.runtime.sync.drain()
        ticket_id = await self.runtime.sync.ticket_id(conversation_id)
        if not ticket_id:
            raise HarnessError(f"turn {turn.kind}: the conversation has no helpdesk ticket")
        route = ACTION_ROUTES[turn.kind]
        body = {"text": turn.human_reply} if turn.human_reply is not None else None
        response = await self.http.post(f"/_sandbox/tickets/{ticket_id}/{route}", json=body)
        if response.status_code >= 400:
            raise HarnessError(
                f"turn {turn.kind}: the sandbox answered {response.status_code}: {response.text[:200]}"
            )
        await self._deliver_webhooks()
        return str(ticket_id)

    # -------------------------------------------------------------- one turn

    async def _intents_since(self, conversation_id: str, checkpoint_id: str | None) -> list[str]:
        """The intents the graph handled since a checkpoint: each intent node that ran (and the
        handoff node, under the state's intent), in order."""
        snapshots = []
        async for snapshot in self.runtime.graph.aget_state_history(self._config(conversation_id)):
            snapshots.append(snapshot)
            if (
                checkpoint_id
                and snapshot.config.get("configurable", {}).get("checkpoint_id") == checkpoint_id
            ):
                break
        intents: list[str] = []
        for snapshot in reversed(snapshots):
            for task in snapshot.tasks:
                name: str | None = None
                if task.name in intent_registry.node_intents():
                    name = task.name
                elif task.name == "handoff" and task.result is not None:
                    name = str(snapshot.values.get("intent") or "escalation")
                if name and (not intents or intents[-1] != name) and task.result is not None:
                    intents.append(name)
        return intents

    async def play_turn(
        self, case: Case, run: int, conversation_id: str, index: int, turn: Turn
    ) -> tuple[TurnRecord, scoring.Observed, list[AnyMessage]]:
        config = self._config(conversation_id)
        before_state = await self.runtime.graph.aget_state(config)
        checkpoint_id = before_state.config.get("configurable", {}).get("checkpoint_id")
        known = {str(m.id) for m in (before_state.values or {}).get("messages", [])}
        world_before = self.world.snapshot()
        record = TurnRecord(index=index, kind=turn.kind, input=turn.text)
        started = time.perf_counter()
        if turn.shopper is not None:
            message_id = f"{case.id}-{run}-{index}"
            text = with_codes(turn.shopper, self.world)  # a step-up code, read from the outbox
            if case.sms_from:
                await self._text(case.sms_from, text, record)
            else:
                async for event in self.runtime.service.send(
                    conversation_id, text, client_message_id=message_id
                ):
                    if event.type == "error":
                        record.errors.append(str(event.data.get("error")))
        elif turn.clock is not None:
            self.world.clock = parse_clock(turn.clock, self.world.clock)
            record.messages.append(
                TranscriptMessage(role="action", text=f"{ACTION_WORDS['clock']} {self.world.now_iso()}")
            )
        else:
            ticket = await self.helpdesk_action(conversation_id, turn)
            words = ACTION_WORDS[turn.kind] + f" (ticket {ticket})"
            if turn.human_reply is not None:
                words += f": {turn.human_reply}"
            record.messages.append(TranscriptMessage(role="action", text=words))
        record.latency_s = time.perf_counter() - started
        # The helpdesk is mirrored off the shopper's path: bring it up to date before looking.
        await self.runtime.sync.drain()

        after_state = await self.runtime.graph.aget_state(config)
        values = after_state.values or {}
        everything: list[AnyMessage] = list(values.get("messages", []))
        new = [m for m in everything if str(m.id) not in known]
        shown = [m for m in chat_messages(everything) if m.id not in known]
        for message in shown:
            record.messages.append(
                TranscriptMessage(role=message.role, text=message.text, card=_card_type(message.card))
            )
        record.tool_calls = tool_call_records(new, everything)
        record.intents = await self._intents_since(conversation_id, checkpoint_id)
        record.status = str(values.get("status") or "active")
        record.handoff = any(m.role == "assistant" and _card_type(m.card) == "handoff" for m in shown)
        world_after = self.world.snapshot()
        turn_changes = changes(world_before, world_after)
        record.effects = [e.describe() for e in turn_changes.effects]
        observed = scoring.Observed(
            intents=record.intents,
            tool_calls=record.tool_calls,
            texts=[m.text for m in shown if m.role in ("assistant", "agent")],
            assistant_messages=sum(1 for m in shown if m.role == "assistant"),
            status=record.status,
            handoff=record.handoff,
            changes=turn_changes,
            after=world_after,
        )
        return record, observed, everything

    # -------------------------------------------------------------- one case

    async def replay(self, loaded: LoadedCase, run: int = 1) -> RunResult:
        case = loaded.case
        counter = UsageCounter()
        token = _usage_counter.set(counter)
        started = time.perf_counter()
        result = RunResult(
            case_id=case.id, run=run, description=case.description, tags=case.tags, passed=False
        )
        try:
            await self._replay(loaded, run, result)
        except Exception as exc:  # a broken case or harness: reported, the suite goes on
            result.error = f"{type(exc).__name__}: {exc}"
            result.passed = False
        finally:
            _usage_counter.reset(token)
        result.usage = counter.usage
        result.duration_s = time.perf_counter() - started
        return result

    async def _replay(self, loaded: LoadedCase, run: int, result: RunResult) -> None:
        case = loaded.case
        await self.prepare(case, loaded.path.parent)
        conversation_id = await self.runtime.service.start(verified_email=case.verified_email)
        if case.sms_from:
            await self._by_sms(conversation_id, case.sms_from)
        start = self.world.snapshot()
        checks: list[Check] = []
        observed_turns: list[scoring.Observed] = []
        everything: list[AnyMessage] = []
        for index, turn in enumerate(case.turns, start=1):
            record, observed, everything = await self.play_turn(case, run, conversation_id, index, turn)
            result.turns.append(record)
            observed_turns.append(observed)
            if turn.expect is not None:
                for check in scoring.score_expect(turn.expect, observed):
                    checks.append(check.model_copy(update={"turn": index}))
            for error in record.errors:
                checks.append(
                    Check(name="no_error", passed=False, expected="no error", actual=error, turn=index)
                )
        # Outcomes as they ended (a call confirmed in a later turn was pending in its own).
        finals = {c.id: c for c in tool_call_records(everything, everything)}
        for record in result.turns:
            record.tool_calls = [finals.get(c.id, c) for c in record.tool_calls]
        end = self.world.snapshot()
        all_changes: Changes = changes(start, end)
        conversation = scoring.Observed(
            intents=_dedupe([i for r in result.turns for i in r.intents]),
            tool_calls=[c for r in result.turns for c in r.tool_calls],
            texts=[t for o in observed_turns for t in o.texts],
            assistant_messages=sum(o.assistant_messages for o in observed_turns),
            status=result.turns[-1].status if result.turns else "",
            handoff=any(r.handoff for r in result.turns),
            changes=all_changes,
            after=end,
        )
        checks += scoring.score_expect(case.expect, conversation, conversation=True)
        result.checks = checks
        result.status = conversation.status
        result.passed = all(c.passed for c in checks)
        result.changes = all_changes.to_json()
        result.world_diff = compact_diff(start, end)
        result.counts = _counts(case, result, conversation, all_changes)


def _dedupe(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        if not out or out[-1] != value:
            out.append(value)
    return out


def _counts(case: Case, result: RunResult, conversation: scoring.Observed, all_changes: Changes) -> RunCounts:
    expects: list[Expect] = [t.expect for t in case.turns if t.expect is not None] + [case.expect]
    intents: list[tuple[str, str | None]] = []
    for turn, record in zip(case.turns, result.turns, strict=False):
        if turn.expect is not None and turn.expect.intent is not None:
            intents.append((turn.expect.intent, record.intents[0] if record.intents else None))
    if case.expect.intent is not None:
        intents.append((case.expect.intent, conversation.intents[0] if conversation.intents else None))
    wanted, matched, mutating, expected_mutating = scoring.tool_call_counts(expects, conversation.tool_calls)
    return RunCounts(
        intents=intents,
        expected_calls=wanted,
        matched_expected_calls=matched,
        mutating_calls=mutating,
        expected_mutating_calls=expected_mutating,
        expected_handoff=bool(case.expect.handoff),
        actual_handoff=conversation.handoff,
        violations=[e.describe() for e in scoring.unexpected_effects(case.expect.world, all_changes)],
    )


# ---------------------------------------------------------------------------- the suite


def eval_settings(settings: Settings, model: str | None = None) -> Settings:
    """The agent's settings for a replay: always the sandbox, the model asked for."""
    # No background worker: each replay drains the helpdesk outbox itself, deterministically.
    # No background work between turns: the outbox is drained by the replay, parcels are not swept.
    update: dict[str, Any] = {"sandbox_mode": True, "helpdesk_sync_worker": False, "parcel_sweep_minutes": 0}
    if model:
        update["model"] = model
    if (model or settings.model).strip() == "openai:offline":
        update["openai_base_url"] = None  # served by each replay's own sandbox
    return settings.model_copy(update=update)


@asynccontextmanager
async def open_replayer(settings: Settings) -> AsyncIterator[Replayer]:
    persistence = Persistence(InMemorySaver(), InMemoryStore(), "memory")
    async with (
        open_demo_runtime(settings, persistence=persistence) as runtime,
        httpx.AsyncClient(base_url=runtime.sandbox_url, timeout=30.0) as http,
    ):
        yield Replayer(runtime, http)


async def run_suite(
    cases: Sequence[LoadedCase],
    settings: Settings,
    *,
    k: int = 1,
    workers: int = 1,
    on_result: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Replay every case `k` times; results in case order."""
    jobs = [(case, run) for case in cases for run in range(1, k + 1)]
    queue: asyncio.Queue[tuple[LoadedCase, int]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    results: dict[tuple[str, int], RunResult] = {}

    async def work(replayer: Replayer) -> None:
        while not queue.empty():
            loaded, run = queue.get_nowait()
            result = await replayer.replay(loaded, run)
            results[(loaded.case.id, run)] = result
            if on_result is not None:
                on_result(result)

    async with AsyncExitStack() as stack:
        replayers = [
            await stack.enter_async_context(open_replayer(settings))
            for _ in range(max(1, min(workers, len(jobs))))
        ]
        await asyncio.gather(*(work(r) for r in replayers))
    return [results[(case.case.id, run)] for case, run in jobs]
