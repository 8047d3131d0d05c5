"""The agent under test: the real runtime on the sandbox (`demo.runtime.open_demo_runtime`) with a scripted model, a fresh sandbox
world, and helpers to talk as the shopper, act as the human agent and inspect the world.

- One runtime per test: the sandbox is served on a loopback port (the SDK-based clients need a
  socket) and its helpdesk webhooks reach the conversation service in-process.
- The human agent acts through the sandbox control API (`/_sandbox/tickets/{id}/reply|close|
  handback|approve|deny`) called in-process on the test's event loop, so the webhook reaches the
  service on the loop that owns it.
- Retries never sleep: every client's retry policy records its waits in `Agent.waits`.
- The Shopify and Gorgias call limits are lifted: a scripted conversation is not a load test.
- Graph state lives in memory unless a test passes its own persistence.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore
from tenacity import AsyncRetrying

import integrations._http
import integrations.shopify.client
from agent.conversation import ChatEvent, ChatMessage, ConversationView
from agent.persistence import Persistence
from agent.service import GraphConversationService
from agent.settings import Settings
from agent.webhooks import receive_helpdesk_webhook
from demo.openai_compat import attach_chat_backend
from demo.runtime import DemoRuntime, open_demo_runtime
from sandbox.app import create_sandbox_app
from sandbox.helpdesks import desk_of
from sandbox.vendors.gorgias import CallLimiter
from sandbox.vendors.shopify_graphql import configure_cost_bucket
from sandbox.webhooks import encode_body
from sandbox.world import JSON, World
from tests.agent.scripted_model import ScriptedChatModel, Step, ToolStep, intent

# The demo store's shoppers (sandbox/seeds/demo_store.json) by order number.
EMAILS: dict[str, str] = {
    "1001": "ana.silva@example.com",
    "1002": "ben.okafor@example.com",
    "1004": "dev.patel@example.com",
    "1005": "emma.jones@example.com",
    "1006": "ana.silva@example.com",
    "1009": "grace.lee@example.com",
    "1030": "ben.okafor@example.com",
}
TEAM_EMAIL = "team@harborandpine.test"
# TEST_POSTGRES_URL lets parallel checkouts on one machine use their own database.
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def agent_settings(**overrides: Any) -> Settings:
    """Settings for the sandbox demo store, independent of the developer's `.env` and environment."""
    # No background worker: `Agent` drains the helpdesk outbox itself, so tests see a settled world.
    values: dict[str, Any] = {
        "sandbox_mode": True,
        "model": "offline",
        "database_url": None,
        "helpdesk_sync_worker": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def memory_persistence() -> Persistence:
    return Persistence(checkpointer=InMemorySaver(), store=InMemoryStore(), backend="memory")


def sandbox_app() -> FastAPI:
    """A fresh demo-store sandbox, fit for scripted conversations."""
    app = create_sandbox_app()
    # Something must answer the sandbox's OpenAI endpoint; an empty script fails loudly if used,
    # and spares `open_runtime` building the offline model.
    attach_chat_backend(app, ScriptedChatModel(steps=[]))
    configure_cost_bucket(app, enabled=False)
    app.state.gorgias_call_limiter = CallLimiter(limit=1_000_000)
    app.state.zendesk_call_limiter = CallLimiter(limit=1_000_000, window_seconds=60.0)
    app.state.front_call_limiter = CallLimiter(limit=1_000_000, window_seconds=60.0)
    app.state.intercom_call_limiter = CallLimiter(limit=1_000_000, window_seconds=10.0)
    return app


@dataclass
class Turn:
    """The events of one shopper turn."""

    events: list[ChatEvent]

    @property
    def types(self) -> list[str]:
        return [e.type for e in self.events]

    @property
    def messages(self) -> list[ChatMessage]:
        return [ChatMessage.model_validate(e.data) for e in self.events if e.type == "message"]

    def said(self, role: str = "assistant") -> list[str]:
        return [m.text for m in self.messages if m.role == role]

    @property
    def done(self) -> dict[str, Any]:
        assert self.events and self.events[-1].type == "done", f"the turn did not finish: {self.types}"
        return self.events[-1].data

    @property
    def status(self) -> str:
        return str(self.done["status"])

    @property
    def error(self) -> dict[str, Any] | None:
        return next((e.data for e in self.events if e.type == "error"), None)


@dataclass
class Subscription:
    """Events pushed outside a turn, collected by a background task."""

    events: list[ChatEvent]
    task: asyncio.Task[None]

    @property
    def messages(self) -> list[ChatMessage]:
        return [ChatMessage.model_validate(e.data) for e in self.events if e.type == "message"]

    @property
    def statuses(self) -> list[str]:
        return [str(e.data["status"]) for e in self.events if e.type == "status"]


@dataclass
class Agent:
    """A running agent with a scripted model, and the test's hands on the sandbox."""

    runtime: DemoRuntime
    model: ScriptedChatModel
    control: httpx.AsyncClient
    waits: list[float] = field(default_factory=list)

    # ------------------------------------------------------------------ parts

    @property
    def service(self) -> GraphConversationService:
        return self.runtime.service

    @property
    def world(self) -> World:
        return self.runtime.world

    def script(self, *steps: Step) -> None:
        """Append what the model answers next (in order)."""
        self.model.steps.extend(steps)

    # ------------------------------------------------------------------ the shopper

    async def start(self, *, verified_email: str | None = None) -> str:
        return await self.service.start(verified_email=verified_email)

    async def say(
        self, conversation_id: str, text: str, *, client_message_id: str | None = None, drain: bool = True
    ) -> Turn:
        """One shopper turn; then (unless `drain=False`) the helpdesk outbox is delivered."""
        events = [
            e async for e in self.service.send(conversation_id, text, client_message_id=client_message_id)
        ]
        if drain:
            await self.drain()
        return Turn(events)

    async def drain(self) -> int:
        """Deliver the helpdesk outbox now (the background worker is off in tests)."""
        return await self.runtime.sync.drain()

    async def view(self, conversation_id: str) -> ConversationView:
        return await self.service.get(conversation_id)

    async def state(self, conversation_id: str) -> dict[str, Any]:
        snapshot = await self.runtime.graph.aget_state({"configurable": {"thread_id": conversation_id}})
        return dict(snapshot.values or {})

    async def state_messages(self, conversation_id: str) -> list[AnyMessage]:
        messages: list[AnyMessage] = (await self.state(conversation_id)).get("messages", [])
        return messages

    async def tool_calls(self, conversation_id: str) -> list[tuple[str, dict[str, Any]]]:
        """Every tool call the model made in this conversation, in order."""
        return [
            (c["name"], c["args"])
            for m in await self.state_messages(conversation_id)
            if isinstance(m, AIMessage)
            for c in m.tool_calls
        ]

    async def tool_results(self, conversation_id: str) -> list[ToolMessage]:
        return [m for m in await self.state_messages(conversation_id) if isinstance(m, ToolMessage)]

    async def subscribe(self, conversation_id: str) -> Subscription:
        """Start collecting the conversation's pushed events (the subscription is live on return)."""
        events: list[ChatEvent] = []
        stream = self.service.subscribe(conversation_id)

        async def collect() -> None:
            async for event in stream:
                events.append(event)

        task = asyncio.create_task(collect())
        await asyncio.sleep(0)  # let the collector start waiting
        return Subscription(events, task)

    # ------------------------------------------------------------------ the human agent

    async def human(self, ticket_id: str | int | None, action: str, **body: Any) -> JSON:
        """`reply` (text=...), `close`, `handback`, `approve` or `deny` on a ticket, as a person would."""
        assert ticket_id is not None, "the conversation has no ticket"
        response = await self.control.post(f"/_sandbox/tickets/{ticket_id}/{action}", json=body or None)
        assert response.status_code == 200, response.text
        result: JSON = response.json()
        await self.drain()
        return result

    async def webhook(self, body: JSON) -> bool:
        """Deliver a helpdesk webhook body (e.g. a replay of one the sandbox sent), signed as the
        configured helpdesk signs it, through the helpdesk adapter to the service."""
        raw = encode_body(body)
        headers = desk_of(self.world).headers(self.world.helpdesk_webhook, raw, self.world)
        return await receive_helpdesk_webhook(self.runtime.services.helpdesk, self.service, headers, raw)

    # ------------------------------------------------------------------ the world

    def ticket(self, ticket_id: str | int | None) -> JSON:
        """The ticket in the sandbox's vendor-neutral view (sandbox/helpdesks), whichever helpdesk."""
        assert ticket_id is not None, "the conversation has no ticket"
        ticket = desk_of(self.world).view(self.world, int(ticket_id))
        assert ticket is not None, f"no ticket {ticket_id} in {self.world.helpdesk}"
        return ticket

    def tags(self, ticket_id: str | int | None) -> list[str]:
        return [t["name"] for t in self.ticket(ticket_id)["tags"]]

    def public_texts(self, ticket_id: str | int | None) -> list[str]:
        return [m["body_text"] for m in self.ticket(ticket_id)["messages"] if m["channel"] != "internal-note"]

    def notes(self, ticket_id: str | int | None) -> list[str]:
        return [m["body_text"] for m in self.ticket(ticket_id)["messages"] if m["channel"] == "internal-note"]

    async def assert_mirrored_once(self, conversation_id: str) -> None:
        """The ticket holds every shopper and bot message of the conversation, in order, each once."""
        view = await self.view(conversation_id)
        mirrored = [
            m
            for m in self.ticket(view.ticket_id)["messages"]
            if m["channel"] != "internal-note" and m.get("external_id")
        ]
        external = [m["external_id"] for m in mirrored]
        assert len(external) == len(set(external)), f"posted twice: {external}"
        expected = [m.text for m in view.messages if m.role != "agent"]
        assert [m["body_text"] for m in mirrored] == expected

    def order(self, number: str | int) -> JSON:
        order = self.world.order_by_number(int(number))
        assert order is not None
        return order

    def outbox_to(self, address: str) -> list[JSON]:
        """Emails accepted by the SendGrid emulator for this recipient."""
        return [mail for mail in self.world.sendgrid.outbox if address in mail["to"]]

    async def inject(self, **fault: Any) -> None:
        response = await self.control.post("/_sandbox/faults", json=fault)
        assert response.status_code == 201, response.text


def recording_retries(waits: list[float]) -> Callable[..., AsyncRetrying]:
    """The shared retry policy, recording its waits instead of sleeping."""

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return functools.partial(integrations._http.retrying, sleep=sleep)


@pytest.fixture
def open_agent(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """A factory: `async with open_agent(steps, persistence=..., app=..., **settings) as agent`."""
    waits: list[float] = []
    retries = recording_retries(waits)
    # Clients without an explicit policy use these module-level defaults.
    monkeypatch.setattr(integrations._http, "retrying", retries)
    monkeypatch.setattr(integrations.shopify.client, "retrying", retries)

    @asynccontextmanager
    async def factory(
        steps: list[Step] | None = None,
        *,
        persistence: Persistence | None = None,
        app: FastAPI | None = None,
        step_up: bool = False,
        **settings: Any,
    ) -> AsyncIterator[Agent]:
        model = ScriptedChatModel(steps=list(steps or []))
        async with open_demo_runtime(
            agent_settings(**settings),
            model=model,
            sandbox_app=app or sandbox_app(),
            persistence=persistence or memory_persistence(),
        ) as runtime:
            if not step_up:
                # Scripted conversations test the graph's mechanics (confirm, approval, hand-off,
                # persistence) and script every model answer; the emailed-code exchange is tested
                # with the offline model (test_step_up.py), the evals and the tools' tests.
                tools = runtime.services.tools
                tools.policy = tools.policy.model_copy(update={"step_up_actions": ()})
            transport = httpx.ASGITransport(app=runtime.sandbox_app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as control:
                yield Agent(runtime=runtime, model=model, control=control, waits=waits)

    return factory


@pytest.fixture
async def agent(open_agent: Callable[..., Any]) -> AsyncIterator[Agent]:
    """A running agent with an empty script: tests add steps with `agent.script(...)`.

    At the end every scripted step must have been used.
    """
    async with open_agent() as running:
        yield running
        running.model.assert_exhausted()


def verify(order_number: str, email: str | None = None) -> ToolStep:
    """The model verifies the shopper with an order number and its email (the right one by default)."""
    return ToolStep(
        [("verify_customer", {"email": email or EMAILS[order_number], "order_number": order_number})]
    )


def call(name: str, **args: Any) -> ToolStep:
    """The model calls one tool."""
    return ToolStep([(name, args)])


def crash_once(target: Any, method: str, *, on_call: int = 1) -> None:
    """Make `target.method` raise an unexpected (non-vendor) error on its `on_call`-th call only."""
    original = getattr(target, method)
    calls = 0

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == on_call:
            raise RuntimeError("unexpected failure")
        return await original(*args, **kwargs)

    setattr(target, method, flaky)


async def request_refund_1005(agent: Agent, line_item_ids: list[str] | None = None) -> str:
    """Emma asks for an over-limit refund of order #1005 and says yes: it waits for approval."""
    agent.script(
        intent("refunds", order_number="1005"),
        verify("1005"),
        call("issue_refund", order_number="1005", line_item_ids=line_item_ids, reason="arrived damaged"),
        "A refund this size needs a quick approval from our team; I'll tell you here as soon as they decide.",
    )
    cid = await agent.start()
    asked = await agent.say(cid, "I want a refund for order 1005, emma.jones@example.com")
    assert asked.status == "awaiting_confirmation"
    assert "approved by a person first" in asked.messages[-1].text
    turn = await agent.say(cid, "yes")
    assert turn.status == "awaiting_approval"
    return cid
