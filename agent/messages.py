"""Conventions for messages in graph state.

State keeps everything the shopper saw plus what the model needs. A few messages are for the
shopper's eyes only (the confirmation question and their yes/no), flagged `ui_only`, and are
left out of the model's input so a tool call is always directly followed by its result.
Human agents' messages are `AIMessage(name="agent")`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, ToolMessage

from agent.cards import Card, as_json
from tools.identity import CustomerVerified
from tools.results import read_refusal

UI_ONLY = "ui_only"
CARD = "card"
AUTHOR = "author"
AGENT_NAME = "agent"
CREATED_AT = "created_at"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def assistant(text: str, *, card: Card | None = None, ui_only: bool = False) -> AIMessage:
    kwargs: dict[str, Any] = {CREATED_AT: _now()}
    if card is not None:
        kwargs[CARD] = as_json(card)  # plain JSON: any checkpointer stores it
    if ui_only:
        kwargs[UI_ONLY] = True
    # An id from the start, so the message can be mirrored before it reaches state.
    return AIMessage(content=text, id=f"a-{uuid.uuid4().hex}", additional_kwargs=kwargs)


def shopper(text: str, *, message_id: str | None = None, ui_only: bool = False) -> HumanMessage:
    kwargs: dict[str, Any] = {CREATED_AT: _now(), **({UI_ONLY: True} if ui_only else {})}
    return HumanMessage(content=text, id=message_id or f"m-{uuid.uuid4().hex}", additional_kwargs=kwargs)


def human_agent(text: str, *, author: str | None, message_id: str | None = None) -> AIMessage:
    return AIMessage(
        content=text,
        name=AGENT_NAME,
        id=message_id,
        additional_kwargs={AUTHOR: author or "Support team", CREATED_AT: _now()},
    )


def is_ui_only(message: BaseMessage) -> bool:
    return bool(message.additional_kwargs.get(UI_ONLY))


def is_human_agent(message: BaseMessage) -> bool:
    return isinstance(message, AIMessage) and message.name == AGENT_NAME


def text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in content]
    return "".join(parts)


def model_window(messages: Sequence[AnyMessage], limit: int = 40) -> list[AnyMessage]:
    """The recent messages the model sees: no ui-only messages, never starting inside a tool exchange."""
    visible = [m for m in messages if not is_ui_only(m)]
    window = visible[-limit:]
    while window and not isinstance(window[0], HumanMessage):
        window = window[1:]
    return window


def last_human(messages: Sequence[AnyMessage]) -> HumanMessage | None:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message
    return None


def last_shopper_text(messages: Sequence[AnyMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return text_of(message)
    return ""


def tool_messages_since_last_ai(messages: Sequence[AnyMessage]) -> list[ToolMessage]:
    """The tool results that answered the latest tool-calling AI message."""
    found: list[ToolMessage] = []
    for message in reversed(messages):
        if isinstance(message, ToolMessage):
            found.append(message)
        elif isinstance(message, AIMessage) and message.tool_calls:
            break
    return list(reversed(found))


def last_tool_calling_message(messages: Sequence[AnyMessage]) -> AIMessage | None:
    for message in reversed(messages):
        if isinstance(message, AIMessage) and message.tool_calls:
            return message
        if isinstance(message, HumanMessage) and not is_ui_only(message):
            return None
    return None


def refusal_code(result: ToolMessage) -> str | None:
    """The refusal code of a tool result (None for a result); `"unreadable"` for anything that is
    neither (garbled text, a refusal without its code)."""
    artifact = result.artifact
    if result.status == "success" and isinstance(artifact, dict) and artifact.get("ok") is True:
        # A result our tools ran (`tools.langchain.execute` keeps it beside the text): no need to
        # parse a whole tracking history twice to learn it is not a refusal.
        return None
    text = str(result.content)
    refusal = read_refusal(text)
    if refusal is not None:
        return refusal.code
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        return "unreadable"
    return "unreadable" if not isinstance(body, dict) or body.get("ok") is not True else None


SIGNED_IDENTITY_CALL_ID = "signed-identity"


def signed_identity_exchange(email: str, first_name: str | None = None) -> list[AnyMessage]:
    """A shopper verified before the conversation (a signed widget identity), said the way a model
    reads any verification: a `verify_customer` call and its `CustomerVerified` answer.

    For a model's input only, ahead of the window (`[system, *signed_identity_exchange(...),
    *model_window(...)]`), never for state: nothing was called. With it, the offline model needs
    nothing from the prompt.
    """
    verified = CustomerVerified(email=email, first_name=first_name)
    call = {"name": "verify_customer", "args": {}, "id": SIGNED_IDENTITY_CALL_ID, "type": "tool_call"}
    return [
        AIMessage(content="", tool_calls=[call]),
        ToolMessage(
            content=verified.model_dump_json(exclude_none=True),
            tool_call_id=SIGNED_IDENTITY_CALL_ID,
            name="verify_customer",
        ),
    ]
