"""Reading a conversation the way the offline model needs it: from the messages alone.

The graph calls the model with ``[SystemMessage(prompt), *messages]``; an OpenAI-protocol client
sends the same as JSON. The messages are: ``HumanMessage`` (the shopper), ``AIMessage`` (the
assistant, possibly with tool calls), ``ToolMessage`` (a tool's answer as JSON, read back into the
tool's own result model or a ``Refusal``) and ``AIMessage(name="agent")`` (a human support agent,
which the flows ignore). The system prompt is written for LLMs and is not read: who the shopper is
comes from the tools' answers, which intent node is calling from the tools bound to the call, and
today's date from the model's own clock. A shopper signed in through the widget (a signed
identity) arrives as data too: the graph puts a verify_customer exchange ahead of the window
(``agent.messages.signed_identity_exchange``).

Everything here is a pure function of those messages: no state is kept between model calls, so a
resumed or replayed conversation gets exactly the same answers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import ValidationError

from tools.identity import CustomerVerified
from tools.orders import OrderDetails
from tools.registry import spec_by_name
from tools.results import Refusal, RefusalCode, ToolResult, read_refusal

HUMAN_AGENT_NAME = "agent"
# Tools that only ever answer a verified shopper (anyone else gets `not_verified`): a result from
# one of them says the shopper is verified even when verify_customer is out of sight.
VERIFIED_ONLY_TOOLS: Final[frozenset[str]] = frozenset(
    {
        "lookup_order",
        "get_tracking_status",
        "check_return_eligibility",
        "create_return_label",
        "check_refund_eligibility",
        "issue_refund",
        "cancel_order",
        "update_shipping_address",
        "send_verification_code",
    }
)


def message_text(message: BaseMessage) -> str:
    """The plain text of a message whose content may be a string or a list of content blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and isinstance(block.get("text"), str):
            parts.append(block["text"])
    return "".join(parts)


def is_human_agent(message: BaseMessage) -> bool:
    """A message written by a person on the support team (relayed from the helpdesk)."""
    return isinstance(message, AIMessage) and message.name == HUMAN_AGENT_NAME


def is_assistant_text(message: BaseMessage) -> bool:
    """A final assistant reply: text, no tool calls, not a human agent's message."""
    return (
        isinstance(message, AIMessage)
        and not is_human_agent(message)
        and not message.tool_calls
        and bool(message_text(message).strip())
    )


R = TypeVar("R", bound=ToolResult)


_EMAIL_QUESTIONS: Final[tuple[str, ...]] = (
    "email address",
    "which email",
    "correo electrónico",
    "adresse e-mail",
    "e-mail-adresse",
)
_CHOICE_QUESTIONS: Final[tuple[str, ...]] = (
    "which one do you mean",
    "which one is it about",
    "a cuál te refieres",
    "de laquelle s'agit-il",
    "welche meinen sie",
)
# An item question (`common.which_item`): "Which one do you mean: the mug or the beanie?".
_ITEM_QUESTIONS: Final[tuple[str, ...]] = (
    "pick the right item",
    "which one do you mean:",
    "a cuál te refieres:",
    "elegir el artículo correcto",
    "lequel voulez-vous dire",
    "choisir le bon article",
    "welchen artikel meinen sie",
    "den richtigen artikel",
)
# A shipping address question ("What's the complete new address?"), unless it is about an email address.
_ADDRESS_WORDS: Final[tuple[str, ...]] = ("address", "dirección", "adresse")
_EMAIL_ADDRESS_WORDS: Final[tuple[str, ...]] = (
    "email address",
    "dirección de correo",
    "adresse e-mail",
    "adresse électronique",
    "e-mail-adresse",
)


@dataclass(frozen=True)
class ToolOutcome:
    """A tool call together with its answer, read into the tool's own result models.

    ``result`` is the tool's typed result or a ``Refusal``; ``None`` when the answer is not one
    this tool gives (unknown tool, garbled text): the flows treat that as a failure without a code.
    """

    name: str
    args: dict[str, Any]
    result: ToolResult | Refusal | None
    position: int

    @property
    def ok(self) -> bool:
        return isinstance(self.result, ToolResult)

    @property
    def refusal(self) -> Refusal | None:
        return self.result if isinstance(self.result, Refusal) else None

    @property
    def code(self) -> RefusalCode | None:
        return self.result.code if isinstance(self.result, Refusal) else None

    def success(self, kind: type[R]) -> R | None:
        """The result when it is a ``kind`` (``TrackingResult``, ``RecentOrders`` ...), else None."""
        return self.result if isinstance(self.result, kind) else None

    @property
    def order_number(self) -> str | None:
        """The order the call was about (from the answer, else from the arguments)."""
        result = self.result
        number: object = None
        if isinstance(result, Refusal):
            number = result.details.get("order_number")
        elif isinstance(result, OrderDetails):
            number = result.order.order_number
        elif result is not None:
            number = getattr(result, "order_number", None)
        if number is None:
            number = self.args.get("order_number")
        return str(number).lstrip("#") if number is not None and str(number) else None


@dataclass(frozen=True)
class ShopperTurn:
    """One shopper message, and whether the assistant called a tool or a person from the support
    team replied before the next one."""

    text: str
    position: int
    had_tool_calls: bool
    person_replied: bool = False


def read_answer(tool: str, text: str) -> ToolResult | Refusal | None:
    """A tool message's JSON as the tool's result or refusal, or None when it is neither."""
    spec = spec_by_name(tool)
    if spec is None:
        return read_refusal(text)
    try:
        return spec.parse_result(text)
    except ValidationError:
        return None


@dataclass
class Conversation:
    """The messages of one model call, indexed for the flows."""

    messages: list[BaseMessage]
    outcomes: list[ToolOutcome] = field(default_factory=list)
    turns: list[ShopperTurn] = field(default_factory=list)
    segment_start: int = 0

    @classmethod
    def from_messages(cls, messages: Sequence[BaseMessage]) -> Conversation:
        conversation = cls(messages=[m for m in messages if not isinstance(m, SystemMessage)])
        conversation._index()
        return conversation

    def _index(self) -> None:
        calls: dict[str, tuple[str, dict[str, Any]]] = {}
        for position, message in enumerate(self.messages):
            if isinstance(message, AIMessage) and not is_human_agent(message):
                for call in message.tool_calls:
                    if call.get("id"):
                        calls[str(call["id"])] = (call["name"], dict(call.get("args") or {}))
            if isinstance(message, ToolMessage):
                name, args = calls.get(message.tool_call_id, (message.name or "", {}))
                name = message.name or name
                self.outcomes.append(
                    ToolOutcome(
                        name=name,
                        args=args,
                        result=read_answer(name, message_text(message)),
                        position=position,
                    )
                )
        # The segment is what the current intent node has done so far: everything after the
        # latest shopper message or final assistant reply (a second intent node in the same turn
        # starts after the first one's reply).
        for position, message in enumerate(self.messages):
            if isinstance(message, HumanMessage) or is_assistant_text(message):
                self.segment_start = position + 1
        human_positions = [i for i, m in enumerate(self.messages) if isinstance(m, HumanMessage)]
        for index, position in enumerate(human_positions):
            end = human_positions[index + 1] if index + 1 < len(human_positions) else len(self.messages)
            had_calls = any(
                isinstance(m, AIMessage) and not is_human_agent(m) and bool(m.tool_calls)
                for m in self.messages[position + 1 : end]
            )
            self.turns.append(
                ShopperTurn(
                    text=message_text(self.messages[position]), position=position, had_tool_calls=had_calls
                )
            )

    # -- shopper side ----------------------------------------------------------------------------

    @property
    def latest_shopper_text(self) -> str:
        return self.turns[-1].text if self.turns else ""

    def shopper_texts(self, newest_first: bool = True) -> list[str]:
        texts = [turn.text for turn in self.turns]
        return list(reversed(texts)) if newest_first else texts

    def assistant_asked_question(self) -> bool:
        """Whether the last assistant reply before the latest shopper message was a question.

        Only replies that really wait for an answer end with a question mark (the reply templates
        are written that way), so a short "yes" or "the mug" can be read as that answer.
        """
        return self.asked_before(len(self.turns) - 1)

    def asked_before(self, turn_index: int) -> bool:
        """Whether the assistant's last reply before shopper turn ``turn_index`` was a question."""
        if not self.turns or turn_index < 0:
            return False
        start = self.turns[turn_index - 1].position if turn_index > 0 else -1
        for message in reversed(self.messages[start + 1 : self.turns[turn_index].position]):
            if is_assistant_text(message):
                return message_text(message).rstrip().endswith("?")
        return False

    def asked_for(self) -> frozenset[str]:
        """What the assistant's last question before the latest shopper message asked for:
        ``order_number``, ``email``, ``address`` (a shipping address), ``item`` or ``choice`` (an
        order from a list). Empty when it asked nothing. The question is dialogue state: the
        answer that follows fills it, however loosely it is worded."""
        last = self.last_assistant_text() if self.turns else None
        # "And the order number? It's in your confirmation email": a question, then a hint.
        if last is None or "?" not in last:
            return frozenset()
        text = last.lower()
        wanted: set[str] = set()
        # The offline model's own questions, in the languages of its templates (prompts/offline/<lang>/).
        if any(
            p in text for p in ("order number", "número de pedido", "numéro de commande", "bestellnummer")
        ):
            wanted.add("order_number")
        if any(p in text for p in _EMAIL_QUESTIONS):  # not "your confirmation email"
            wanted.add("email")
        if any(p in text for p in _ADDRESS_WORDS) and not any(p in text for p in _EMAIL_ADDRESS_WORDS):
            wanted.add("address")  # "Lieferadresse" too, but not "E-Mail-Adresse"
        if any(p in text for p in _CHOICE_QUESTIONS):
            wanted.add("choice")
        if any(p in text for p in _ITEM_QUESTIONS):
            wanted.add("item")
        return frozenset(wanted)

    def last_assistant_text(self) -> str | None:
        last_human = self.turns[-1].position if self.turns else len(self.messages)
        for message in reversed(self.messages[:last_human]):
            if is_assistant_text(message):
                return message_text(message)
        return None

    # -- tool side -------------------------------------------------------------------------------

    @property
    def segment_outcomes(self) -> list[ToolOutcome]:
        """Tool results produced since the current intent node started, oldest first."""
        return [o for o in self.outcomes if o.position >= self.segment_start]

    def latest_segment_outcome(self) -> ToolOutcome | None:
        """The newest tool result, if it is the last thing in the conversation (awaiting a reply)."""
        if not self.messages or not isinstance(self.messages[-1], ToolMessage):
            return None
        outcomes = self.segment_outcomes
        return outcomes[-1] if outcomes else None

    def segment_result(self, name: str, order_number: str | None = None) -> ToolOutcome | None:
        """The newest result of ``name`` in the segment (for ``order_number`` when given)."""
        for outcome in reversed(self.segment_outcomes):
            if outcome.name == name and (
                order_number is None or outcome.order_number in (order_number, None)
            ):
                return outcome
        return None

    def latest_result(self, name: str, order_number: str | None = None) -> ToolOutcome | None:
        """The newest result of ``name`` anywhere in the conversation."""
        for outcome in reversed(self.outcomes):
            if outcome.name == name and (
                order_number is None or outcome.order_number in (order_number, None)
            ):
                return outcome
        return None

    def called_in_segment(self, name: str, args: dict[str, Any]) -> bool:
        return any(o.name == name and o.args == args for o in self.segment_outcomes)

    def turn_had_tool_calls(self) -> bool:
        return bool(self.turns) and self.turns[-1].had_tool_calls

    # -- identity --------------------------------------------------------------------------------

    def latest_verification(self) -> ToolOutcome | None:
        for outcome in reversed(self.outcomes):
            if outcome.name == "verify_customer":
                return outcome
        return None

    @property
    def verified_email(self) -> str | None:
        """Who the shopper is verified as: verify_customer's answer, else a signed-in identity."""
        verified = self._latest_verified()
        return verified.email if verified is not None else None

    @property
    def is_verified(self) -> bool:
        """The tools treat the shopper as verified: verify_customer said so, or a tool that answers
        only verified shoppers did."""
        return self.verified_email is not None or any(
            o.ok and o.name in VERIFIED_ONLY_TOOLS for o in self.outcomes
        )

    @property
    def verified_order_number(self) -> str | None:
        """The order number the shopper verified with (a sensible default order)."""
        verified = self._latest_verified()
        return verified.order_number if verified is not None else None

    def _latest_verified(self) -> CustomerVerified | None:
        for outcome in reversed(self.outcomes):
            verified = outcome.success(CustomerVerified)
            if verified is not None:
                return verified
        return None

    # -- determinism ------------------------------------------------------------------------------

    def fingerprint(self) -> str:
        """A stable hash of the conversation: seeds reply variants and tool call ids."""
        digest = hashlib.sha256()
        for message in self.messages:
            digest.update(type(message).__name__.encode())
            digest.update(b"\x00")
            digest.update(message_text(message).encode())
            if isinstance(message, AIMessage):
                for call in message.tool_calls:
                    digest.update(f"\x01{call.get('id')}\x01{call['name']}".encode())
            if isinstance(message, ToolMessage):
                digest.update(f"\x02{message.tool_call_id}".encode())
            digest.update(b"\x03")
        return digest.hexdigest()
