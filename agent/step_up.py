"""A shopper's reply carrying a step-up code, taken out of the conversation before anything keeps it.

When the conversation has emailed a code (`tools.step_up`), a short message holding a 6-digit
group is a code: the service stores, shows, mirrors and checkpoints `CODE_PLACEHOLDER` instead,
and hands `check_verification_code` only the HMAC of what was typed (in the state's `step_up`
record). So the code never reaches the model, a log line, the inbox, a checkpoint or a ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage

from agent import messages as msg
from tools.step_up import CODE_PLACEHOLDER, StepUp, code_digest, code_in

CODE_ENTRY = "verification_code"


@dataclass(frozen=True)
class CodeEntry:
    """What replaces a shopper's code: the placeholder text, and the state's updated record."""

    text: str
    step_up: dict[str, Any]


def code_entry(state: Mapping[str, Any], conversation_id: str, text: str, key: bytes) -> CodeEntry | None:
    """The code entry `text` is, in this conversation's state, or None for an ordinary message."""
    raw = state.get("step_up")
    if not raw or code_in(text) is None:
        return None
    record = StepUp.model_validate(raw)
    if record.codes_sent == 0:
        return None  # no code was ever sent: six digits are just six digits (an order number)
    code = code_in(text) or ""
    if record.awaiting_code and record.email:
        record.entry = code_digest(key, conversation_id, record.email, code)
    # Even with no code waiting (used, expired, locked) the digits are redacted: they were one.
    return CodeEntry(text=CODE_PLACEHOLDER, step_up=record.model_dump(mode="json"))


def code_message(message_id: str) -> HumanMessage:
    """The shopper's code entry as graph state keeps it: the placeholder, marked as an entry."""
    message = msg.shopper(CODE_PLACEHOLDER, message_id=message_id)
    message.additional_kwargs[CODE_ENTRY] = True
    return message


def is_code_entry(message: BaseMessage | None) -> bool:
    return isinstance(message, HumanMessage) and bool(message.additional_kwargs.get(CODE_ENTRY))
