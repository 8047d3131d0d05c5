"""The conversation service: one shopper turn or helpdesk event at a time, through the graph.

Every shopper message is written to the inbox (the store) before the graph sees it. A retried
POST with the same client message id replays the stored outcome instead of running again, and
a message whose processing crashed is processed again on retry: its graph message id is stable,
so it is never added twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore, GetOp, Item
from langgraph.types import Command

from agent import messages as msg
from agent.conversation import ChatEvent, ChatMessage, ConversationNotFound, ConversationView
from agent.events import LocalEvents
from agent.guards import client_ref, guard_key
from agent.language import language_of
from agent.nodes.wiring import STREAM_TOKENS, TURN_EVENTS
from agent.outbox import HelpdeskSync, mirror_items, ticket_seed
from agent.state import AgentState
from agent.step_up import CodeEntry, code_entry, code_message
from agent.turn_events import TurnEvents
from agent.view import chat_messages
from integrations.events import (
    HandedBack,
    HelpdeskEvent,
    HumanReplied,
    RefundApproved,
    RefundDenied,
    StoreEvent,
    TicketClosed,
)
from prompts.templates import say, variants
from tools.context import VerifiedCustomer
from tools.registry import spec_by_name, specs
from tools.step_up import code_in

logger = logging.getLogger(__name__)

CONVERSATIONS = ("conversations",)
CONFIRMED_TOOLS = frozenset(s.name for s in specs() if s.needs_confirmation)


def _progress(tool_name: str, language: str = "en") -> str:
    """What the shopper sees while a tool runs: its `@tool(progress=…)`, or the translation in
    `prompts/fixed/<language>/progress.md`."""
    translated = variants("fixed", "progress", language).get(tool_name) if language != "en" else None
    if translated:
        return translated[0]
    spec = spec_by_name(tool_name)
    return spec.progress if spec else "Working on it…"


def _progress_event(tool_name: str, language: str) -> ChatEvent:
    return ChatEvent(type="progress", data={"text": _progress(tool_name, language), "tool": tool_name})


Graph = CompiledStateGraph[AgentState, None, AgentState, AgentState]


def _language(*states: dict[str, Any]) -> str:
    """The conversation's language as of the newest state that has one (classification sets it)."""
    return next((str(state["language"]) for state in states if state.get("language")), "en")


def _inbox(conversation_id: str) -> tuple[str, ...]:
    return ("inbox", conversation_id)


class GraphConversationService:
    """`ConversationService` backed by the compiled graph, a checkpointer and a store."""

    def __init__(
        self,
        graph: Graph,
        store: BaseStore,
        sync: HelpdeskSync,
        on_store_event: Callable[[StoreEvent], Awaitable[None]] | None = None,
        events: LocalEvents | None = None,
        client_key: bytes | None = None,
        *,
        step_up_key: bytes,
        max_concurrent_turns: int = 16,
    ) -> None:
        self._client_key = client_key or guard_key("")
        # Admission: at most this many turns run the graph at once; the rest wait in arrival order
        # (asyncio's semaphore wakes waiters first come, first served). Two hundred turns interleaving
        # step by step all finish late; taken in order, each finishes as soon as it can.
        self._admission = asyncio.Semaphore(max_concurrent_turns)
        self._waiting_turns = 0
        self._step_up_key = step_up_key
        self._on_store_event = on_store_event
        self._events = events or LocalEvents()
        self._graph = graph
        self._store = store
        self._sync = sync
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # The SMS channel (agent.sms.SmsChannel) when texts are on: the server hands it Twilio's webhooks.
        self.sms_channel: Any = None
        # The parcel watch (agent.parcel_watch.ParcelWatch): the server hands it tracking webhooks.
        self.parcel_watch: Any = None
        # Told of the messages a person's helpdesk action added (the SMS channel texts them on).
        self.on_pushed_messages: Callable[[str, list[ChatMessage]], Awaitable[None]] | None = None

    # ------------------------------------------------------------------ conversations

    async def start(self, *, verified_email: str | None = None, access_digest: str | None = None) -> str:
        conversation_id = uuid.uuid4().hex
        await self._store.aput(
            CONVERSATIONS,
            conversation_id,
            {
                "id": conversation_id,
                "created_at": datetime.now(UTC).isoformat(),
                "verified_email": verified_email,
                "access_digest": access_digest,
            },
        )
        return conversation_id

    async def access_digest(self, conversation_id: str) -> str | None:
        item = await self._store.aget(CONVERSATIONS, conversation_id)
        return None if item is None else item.value.get("access_digest")

    async def _record(self, conversation_id: str) -> dict[str, Any]:
        item = await self._store.aget(CONVERSATIONS, conversation_id)
        if item is None:
            raise ConversationNotFound(conversation_id)
        return dict(item.value)

    def _config(self, conversation_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": conversation_id}}

    async def _state(self, conversation_id: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        snapshot = await self._graph.aget_state(self._config(conversation_id))
        return dict(snapshot.values or {}), tuple(snapshot.next or ())

    async def get(self, conversation_id: str) -> ConversationView:
        record = await self._record(conversation_id)
        values, _ = await self._state(conversation_id)
        customer = values.get("customer") or {}
        return ConversationView(
            id=conversation_id,
            status=values.get("status") or "active",
            intent=values.get("intent"),
            ticket_id=values.get("ticket_id") or await self._sync.ticket_id(conversation_id),
            customer_email=customer.get("email") or record.get("verified_email"),
            messages=chat_messages(values.get("messages", [])),
        )

    # ------------------------------------------------------------------ a shopper turn

    async def send(
        self,
        conversation_id: str,
        text: str,
        *,
        client_message_id: str | None = None,
        stream_tokens: bool = True,
        client: str | None = None,
        identity: VerifiedCustomer | None = None,
    ) -> AsyncIterator[ChatEvent]:
        """`identity`: who the channel itself proved the shopper is (an SMS from the phone on their
        order), applied when the conversation has no verified customer yet."""
        # Throttles count per client address: the turn carries it as an opaque reference only.
        ref = client_ref(self._client_key, client) if client else None
        message_id = f"m-{client_message_id}" if client_message_id else f"m-{uuid.uuid4().hex}"
        async with self._locks[conversation_id]:
            # The record and this message's inbox entry in one read (one transaction, not two).
            found, stored = cast(
                list[Item | None],
                await self._store.abatch(
                    [GetOp(CONVERSATIONS, conversation_id), GetOp(_inbox(conversation_id), message_id)]
                ),
            )
            if found is None:
                self._locks.pop(conversation_id, None)  # no lock kept for an unknown conversation
                raise ConversationNotFound(conversation_id)
            record = dict(found.value)
            if stored is not None and stored.value.get("status") == "done":
                for message in stored.value.get("messages", []):
                    yield ChatEvent(type="message", data=message)
                yield ChatEvent(
                    type="done", data={"status": stored.value.get("status_after"), "replayed": True}
                )
                return
            entry = await self._code_entry(conversation_id, text)
            if entry is not None:
                text = entry.text  # from here on, only the placeholder exists
            if stored is None and self._admission.locked():
                # The turn must wait for a free slot: its message is saved first. A turn that runs
                # at once saves it with the graph's first checkpoint, a moment later (one write less).
                await self._store.aput(
                    _inbox(conversation_id),
                    message_id,
                    {"text": text, "status": "received", "received_at": datetime.now(UTC).isoformat()},
                )
            self._waiting_turns += 1
            try:
                await self._admission.acquire()
            finally:
                self._waiting_turns -= 1
            try:
                async for event in self._run_turn(
                    conversation_id, record, message_id, text, stream_tokens, ref, entry, identity
                ):
                    yield event
            finally:
                self._admission.release()

    def turns_waiting(self) -> int:
        """Turns whose message is saved and that wait for a free slot (for `/healthz`)."""
        return self._waiting_turns

    async def _code_entry(self, conversation_id: str, text: str) -> CodeEntry | None:
        """A step-up code the shopper typed (only read from state when the text looks like one)."""
        if code_in(text) is None:
            return None
        values, _ = await self._state(conversation_id)
        return code_entry(values, conversation_id, text, self._step_up_key)

    async def _run_turn(
        self,
        conversation_id: str,
        record: dict[str, Any],
        message_id: str,
        text: str,
        stream_tokens: bool,
        client: str | None,
        entry: CodeEntry | None = None,
        identity: VerifiedCustomer | None = None,
    ) -> AsyncIterator[ChatEvent]:
        values, pending = await self._state(conversation_id)
        already = any(m.id == message_id for m in values.get("messages", []))
        proven = identity.model_dump() if identity is not None and not values.get("customer") else None
        graph_input: Any
        if pending:
            update: dict[str, Any] = {"client": client}
            if proven is not None:
                update["customer"] = proven
            graph_input = Command(resume={"kind": "shopper", "text": text, "id": message_id}, update=update)
        elif already:
            graph_input = None  # the message is in state: finish the interrupted run (a no-op if it ended)
        else:
            graph_input = {
                "messages": [msg.shopper(text, message_id=message_id)],
                "conversation_id": conversation_id,
                "client": client,
            }
            if entry is not None:
                graph_input["messages"] = [code_message(message_id)]
                graph_input["step_up"] = entry.step_up
            if proven is not None:
                graph_input["customer"] = proven
            if not values.get("conversation_id"):
                graph_input["status"] = "active"
                if record.get("verified_email"):
                    customer = VerifiedCustomer(email=record["verified_email"], verified_by="signed_identity")
                    graph_input["customer"] = customer.model_dump()
        # Ids are enough to know what the shopper has seen (converting the history costs every turn).
        emitted = {str(m.id) for m in values.get("messages", [])}
        known = set(emitted)
        # What the shopper is sent, each message dumped once: its event and the inbox's replay share it.
        new_messages: list[dict[str, Any]] = []
        status_before = values.get("status") or "active"
        if message_id not in emitted:
            # The shopper's own message comes first, whatever the graph does with it.
            own = ChatMessage(id=message_id, role="shopper", text=text, created_at=datetime.now(UTC))
            emitted.add(message_id)
            new_messages.append(own.model_dump(mode="json"))
            yield ChatEvent(type="message", data=new_messages[-1])
        final: dict[str, Any] = {}
        try:
            async for event in self._stream(
                conversation_id, graph_input, values, emitted, new_messages, final, stream_tokens
            ):
                yield event
        except Exception:
            logger.exception("turn failed for conversation %s", conversation_id)
            language = await language_of([*values.get("messages", []), msg.shopper(text)])
            yield ChatEvent(
                type="error",
                data={"error": say("handoff.turn_failed", language), "retryable": True},
            )
            return
        # The state the run ended with (as checkpointed); read back only when the graph ran no step.
        after = final if final else (await self._state(conversation_id))[0]
        await self._mirror(conversation_id, after)
        status = after.get("status") or "active"
        # Only what the stream did not show: the messages after the last one shown (tool results
        # there become the card of the reply after them).
        tail = _unseen_tail(after.get("messages", []), known)
        shown_up_to = max((i for i, m in enumerate(tail) if str(m.id) in emitted), default=-1)
        for message in chat_messages(tail[shown_up_to + 1 :]):
            if message.id not in emitted:
                emitted.add(message.id)
                new_messages.append(message.model_dump(mode="json"))
                yield ChatEvent(type="message", data=new_messages[-1])
        if status != status_before:
            yield ChatEvent(type="status", data={"status": status, "intent": after.get("intent")})
        await self._store.aput(
            _inbox(conversation_id),
            message_id,
            {"text": text, "status": "done", "messages": new_messages, "status_after": status},
        )
        yield ChatEvent(type="done", data={"status": status, "messages": new_messages})

    async def _stream(
        self,
        conversation_id: str,
        graph_input: Any,
        values: dict[str, Any],
        emitted: set[str],
        new_messages: list[dict[str, Any]],
        final: dict[str, Any],
        stream_tokens: bool,
    ) -> AsyncIterator[ChatEvent]:
        """Run the graph, turning its updates into progress, delta and message events; `final`
        receives the state the run ended with."""
        state_messages: list[Any] = list(values.get("messages", []))
        announced: set[str] = set()  # tool call ids whose progress was shown
        scanned = len(state_messages)  # messages before this index are shown already
        # Token deltas and early progress only for clients that stream: the intent nodes write them
        # to this turn's side channel (agent.turn_events), read here in order with the updates.
        config = self._config(conversation_id)
        side = TurnEvents() if stream_tokens else None
        if side is not None:
            config["configurable"][STREAM_TOKENS] = True
            config["configurable"][TURN_EVENTS] = side.write
        stream: AsyncIterator[Any] = self._graph.astream(
            graph_input,
            config,
            stream_mode=["updates", "values"],
            # After every step: the shopper's message and each model answer that leads to a side
            # effect survive a crash, so a retry neither loses the message from the conversation
            # nor asks the model again for an action (a round of lookups inside an intent's step
            # is asked again: it changed nothing). ("exit" would save CPU; side effects alone would
            # be safe with it, through the journal, but not those two guarantees.)
            durability="sync",
        )
        # Closed here, not when collected: the graph's run stops with the turn (`astream` is a generator).
        source = side.merged(stream) if side is not None else cast(AsyncGenerator[Any, None], stream)
        async with contextlib.aclosing(source) as items:
            async for mode, chunk in items:
                if mode == "values":
                    final.clear()
                    final.update(chunk or {})
                    continue
                if mode == "custom":
                    if isinstance(chunk, dict) and chunk.get("progress"):
                        # A lookup the intent node runs now (its calls reach the updates afterwards).
                        announced.add(str(chunk.get("call_id")))
                        yield _progress_event(str(chunk["progress"]), _language(final, values))
                    elif isinstance(chunk, dict) and chunk.get("text"):
                        yield ChatEvent(
                            type="delta",
                            data={"message_id": str(chunk.get("message_id")), "text": str(chunk["text"])},
                        )
                    continue
                for node_name, update in (chunk or {}).items():
                    if node_name == "__interrupt__":
                        for interrupt_ in update:
                            value = getattr(interrupt_, "value", {}) or {}
                            if value.get("type") == "human_handling":
                                given = (
                                    graph_input.get("messages", []) if isinstance(graph_input, dict) else []
                                )
                                language = await language_of([*state_messages, *given])
                                yield ChatEvent(
                                    type="handoff",
                                    data={
                                        "ticket_id": value.get("ticket_id"),
                                        "text": say("handoff.now_with_team", language),
                                    },
                                )
                        continue
                    parts = update if isinstance(update, list) else [update]
                    added = [
                        m for part in parts if isinstance(part, dict) for m in (part.get("messages") or [])
                    ]
                    for message in added:
                        if isinstance(message, AIMessage):
                            for call in message.tool_calls:
                                if call["name"] in CONFIRMED_TOOLS or str(call["id"]) in announced:
                                    continue  # nothing happens before the shopper says yes; said already
                                yield _progress_event(call["name"], _language(final, values))
                    if not added:
                        continue
                    state_messages = list(add_messages(state_messages, added))
                    # Only the unseen tail: tool results there become cards on the reply that follows.
                    for shown in chat_messages(state_messages[scanned:]):
                        if shown.id not in emitted:
                            emitted.add(shown.id)
                            new_messages.append(shown.model_dump(mode="json"))
                            yield ChatEvent(type="message", data=new_messages[-1])
                            scanned = len(state_messages)

    async def helpdesk_backlog(self) -> dict[str, Any]:
        """The outbox's backlog for `/healthz`: items, conversations and the oldest item's age."""
        backlog = await self._sync.backlog()
        age = time.time() - backlog.oldest_created_at if backlog.oldest_created_at is not None else None
        return {
            "backlog": backlog.items,
            "conversations": backlog.conversations,
            "oldest_age_seconds": round(age, 1) if age is not None else None,
        }

    async def _mirror(self, conversation_id: str, state: dict[str, Any]) -> None:
        """Record what the helpdesk must learn from this state; the outbox worker delivers it.

        Derived from the checkpointed state, so a crash before this point loses nothing: the
        next turn (or the retry of this one) records the same keyed items.
        """
        try:
            await self._sync.record(conversation_id, mirror_items(state), ticket_seed(state))
        except Exception:  # the shopper's answer is already saved; the next turn records it again
            logger.exception("could not record helpdesk mirroring for a conversation")

    # ------------------------------------------------------------------ outside a turn

    def subscribe(self, conversation_id: str) -> AsyncIterator[ChatEvent]:
        # Registered now, not on first iteration, so no push between subscribe and iterate is lost.
        queue = self._events.register(conversation_id)
        return self._subscription(conversation_id, queue)

    async def _subscription(
        self, conversation_id: str, queue: asyncio.Queue[ChatEvent]
    ) -> AsyncIterator[ChatEvent]:
        try:
            await self._record(conversation_id)
            while True:
                yield await queue.get()
        finally:
            self._events.unregister(conversation_id, queue)

    def shopper_listening(self, conversation_id: str) -> bool:
        """Whether the shopper's chat is open on this conversation (in this process)."""
        return self._events.has_listeners(conversation_id)

    async def record(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's record (id, start, verified email, channel...)."""
        return await self._record(conversation_id)

    async def annotate(self, conversation_id: str, **fields: Any) -> None:
        """Add fields to the conversation's record (e.g. the SMS channel and its phone number)."""
        record = await self._record(conversation_id)
        await self._store.aput(CONVERSATIONS, conversation_id, {**record, **fields})

    async def post_notice(
        self,
        conversation_id: str,
        text: str,
        *,
        message_id: str,
        customer: VerifiedCustomer,
        intent: str,
        helpdesk: dict[str, Any],
    ) -> None:
        """Open the conversation with a message of ours (a notice the shopper did not ask for), with
        `customer` verified and helpdesk work (a note, tags) recorded with it; the shopper answers
        into it like any chat. A repeated `message_id` adds nothing."""
        async with self._locks[conversation_id]:
            values, _ = await self._state(conversation_id)
            if any(m.id == message_id for m in values.get("messages", [])):
                return
            update: dict[str, Any] = {
                "messages": [AIMessage(content=text, id=message_id)],
                "conversation_id": conversation_id,
                "status": values.get("status") or "active",
                "customer": values.get("customer") or customer.model_dump(),
                "intent": values.get("intent") or intent,
                "helpdesk": helpdesk,
            }
            # As if a helpdesk event had just been handled: the graph rests (nothing pending), and the
            # shopper's next message starts a turn from the beginning.
            await self._graph.aupdate_state(self._config(conversation_id), update, as_node="takeover")
            after, _ = await self._state(conversation_id)
            await self._mirror(conversation_id, after)
        for message in chat_messages(after.get("messages", [])):
            if message.id == message_id:
                await self._publish(
                    conversation_id, ChatEvent(type="message", data=message.model_dump(mode="json"))
                )

    def also_on_store_event(self, listener: Callable[[StoreEvent], Awaitable[None]]) -> None:
        """Another listener to the store's events (after the ones given at construction)."""
        first = self._on_store_event

        async def both(event: StoreEvent) -> None:
            if first is not None:
                await first(event)
            await listener(event)

        self._on_store_event = both

    async def _publish(self, conversation_id: str, event: ChatEvent) -> None:
        await self._events.publish(conversation_id, event)

    async def helpdesk_event(self, event: HelpdeskEvent) -> bool:
        conversation_id = event.conversation_id
        try:
            record = await self._record(conversation_id)
        except ConversationNotFound:
            return False
        value = _resume_value(event)
        async with self._locks[conversation_id]:
            values, pending = await self._state(conversation_id)
            waiting = values.get("status")
            if value["kind"] == "agent" and any(m.id == value["id"] for m in values.get("messages", [])):
                # A replayed delivery of a reply already shown: it must not re-open a takeover
                # that was handed back since.
                return True
            if value["kind"] == "agent" and _before(value.get("created_at"), record.get("released_at")):
                # A reply written before the team last closed or handed back the ticket, delivered
                # late (or replayed): it cannot take the conversation over again.
                return True
            if value["kind"] == "approval" and waiting != "awaiting_approval":
                return True
            if value["kind"] in ("close", "handback") and waiting != "human_handling":
                return True
            before = {m.id for m in chat_messages(values.get("messages", []))}
            graph_input: Any = Command(resume=value) if pending else {"event": value}
            if not pending and value["kind"] != "agent":
                return True
            await self._graph.ainvoke(graph_input, self._config(conversation_id), durability="sync")
            after, _ = await self._state(conversation_id)
            await self._mirror(conversation_id, after)
            released = event.occurred_at
            if value["kind"] in ("close", "handback") and after.get("status") != waiting and released:
                # When the team let go, on the helpdesk's own clock (the one its events carry).
                await self._store.aput(
                    CONVERSATIONS, conversation_id, {**record, "released_at": released.isoformat()}
                )
        pushed = [m for m in chat_messages(after.get("messages", [])) if m.id not in before]
        for message in pushed:
            await self._publish(
                conversation_id, ChatEvent(type="message", data=message.model_dump(mode="json"))
            )
        if pushed and self.on_pushed_messages is not None:
            try:
                await self.on_pushed_messages(conversation_id, pushed)
            except Exception:  # the reply is saved and shown in the chat; a text is a courtesy
                logger.exception("could not pass a person's reply on to another channel")
        if after.get("status") != waiting:
            await self._publish(
                conversation_id,
                ChatEvent(type="status", data={"status": after.get("status"), "intent": after.get("intent")}),
            )
        return True

    async def store_event(self, event: StoreEvent) -> None:
        if self._on_store_event is not None:
            await self._on_store_event(event)
        logger.info("store event %s for order %s", event.kind, event.order_number or event.order_id)


def _resume_value(event: HelpdeskEvent) -> dict[str, Any]:
    """What a person's action on the ticket means to the paused graph (its resume value)."""
    if isinstance(event, HumanReplied):
        return {
            "kind": "agent",
            "text": event.text,
            "author": event.author,
            "id": event.message_id,
            "created_at": event.occurred_at.isoformat() if event.occurred_at else None,
        }
    if isinstance(event, TicketClosed):
        return {"kind": "close"}
    if isinstance(event, HandedBack):
        return {"kind": "handback"}
    if isinstance(event, RefundApproved):
        return {"kind": "approval", "decision": "approve"}
    if isinstance(event, RefundDenied):
        return {"kind": "approval", "decision": "deny"}
    raise TypeError(f"not a helpdesk event: {event!r}")


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _before(moment: Any, limit: Any) -> bool:
    """Whether helpdesk time `moment` is strictly before `limit` (False when either is unknown)."""
    first, second = _instant(moment), _instant(limit)
    return first is not None and second is not None and first < second


def _unseen_tail(messages: list[Any], known: set[str]) -> list[Any]:
    """The messages from the first one not known before the turn (tool results included, so
    their cards reach the reply after them)."""
    start = next((i for i, m in enumerate(messages) if str(m.id) not in known), len(messages))
    return messages[start:]
