"""Show the shopper exactly what a mutating call will do, then wait for their yes."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import ToolMessage
from langgraph.types import interrupt

from agent import messages as msg
from agent.cards import ConfirmCard
from agent.language import state_language
from agent.nodes.wiring import Wiring
from agent.offline.nlu.entities import changes_request, is_affirmative, is_negative
from agent.state import AgentState
from integrations._http import IntegrationError
from prompts.templates import say
from tools.langchain import result_text
from tools.results import Refusal, refuse
from tools.spec import Preview


async def confirm(state: AgentState, wiring: Wiring) -> dict[str, Any]:
    """Preview every confirmable call; no side effect before the shopper says yes. When every
    preview is refused, nothing is asked: the tools refuse identically when run."""
    call_message = msg.last_tool_calling_message(state.get("messages", []))
    assert call_message is not None
    previews: list[Preview] = []
    language = await state_language(state)
    for call in call_message.tool_calls:
        spec = wiring.spec(call["name"])
        if not spec.needs_confirmation or spec.preview is None:
            continue
        ctx = wiring.tool_context(state, call["id"] or "")
        ctx.language = language  # the preview is shown to the shopper as it is
        try:
            outcome: Preview | Refusal = await spec.preview(ctx, spec.parse_args(call["args"]))
        except IntegrationError:
            outcome = refuse("vendor_unavailable", "The store's systems are not answering right now.")
        except ValueError as exc:
            outcome = refuse("invalid_arguments", str(exc)[:200])
        if not isinstance(outcome, Refusal):
            previews.append(outcome)
    if not previews:
        return {}
    summary = " ".join(p.summary for p in previews)
    items = [item for p in previews for item in p.items]
    address = next((p.address for p in previews if p.address), None)
    excluded = [reason for p in previews for reason in p.excluded]
    card = ConfirmCard(
        summary=summary,
        items=items,
        amount=next((p.amount for p in previews if p.amount), None),
        address=address,
        excluded=excluded,
    )
    parts = [summary]
    if items:
        parts.append(say("confirm.items", language, items="; ".join(items)))
    if excluded:
        # Said before the yes, not after the money moved: a reflex "yes" must not surprise anyone.
        parts.append(say("confirm.excluded", language, excluded="; ".join(r.rstrip(".") for r in excluded)))
    if address:
        parts.append(say("confirm.new_address", language, address=address))
    parts.append(say("confirm.ask", language))
    question = " ".join(parts)
    return {"messages": [msg.assistant(question, card=card, ui_only=True)], "status": "awaiting_confirmation"}


async def await_confirmation(state: AgentState) -> dict[str, Any]:
    """The shopper's answer: yes runs the calls; no answers them with a refusal the model hears;
    anything else is a new message to classify; a person stepping in takes the conversation."""
    answer = interrupt({"type": "confirm"})
    text = str(answer.get("text", "")) if isinstance(answer, dict) else str(answer)
    message_id = answer.get("id") if isinstance(answer, dict) else None
    call_message = msg.last_tool_calling_message(state.get("messages", []))
    assert call_message is not None

    def declined(reason: str) -> list[ToolMessage]:
        body = result_text(refuse("declined_by_shopper", reason))
        return [
            ToolMessage(content=body, tool_call_id=c["id"] or "", name=c["name"], status="error")
            for c in call_message.tool_calls
        ]

    if isinstance(answer, dict) and answer.get("kind") == "agent":
        # A person stepped in: their words are not the shopper's yes. Nothing is done.
        human_message = msg.human_agent(text, author=answer.get("author"), message_id=message_id)
        results = declined("A person from the team took over before the shopper answered.")
        return {"messages": [*results, human_message], "status": "human_handling"}
    if is_affirmative(text) and not is_negative(text):
        return {"messages": [msg.shopper(text, message_id=message_id, ui_only=True)], "status": "active"}
    reason = "The shopper did not confirm, so nothing was done."
    if is_negative(text) and not changes_request(text):
        reply = msg.shopper(text, message_id=message_id, ui_only=True)
        return {"messages": [reply, *declined(reason)], "status": "active"}
    # Neither yes nor no: a new request ("can I talk to a person?", "only the mug"). Nothing is
    # done, and the message is classified like any other.
    results = declined(f"{reason} Their reply: {text!r}")
    return {"messages": [*results, msg.shopper(text, message_id=message_id)], "status": "active"}
