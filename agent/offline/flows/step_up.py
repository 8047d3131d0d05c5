"""Step-up verification in the offline model's dialogue.

When an action comes back `step_up_required`, the model emails a code (`send_verification_code`)
and tells the shopper where it went. The shopper's reply reaches the model as
`CODE_PLACEHOLDER`: it checks it (`check_verification_code`), then repeats the action that needed
it with the same arguments (its confirmation follows as usual), or explains a wrong or expired
code. The intent's own step phrases the action's result. Pure, like every flow.
"""

from __future__ import annotations

import re

from agent.offline.conversation import Conversation, ToolOutcome
from agent.offline.flows.common import refused
from agent.offline.flows.opening import mentioned_order
from agent.offline.flows.situation import Decision, PlannedCall, Situation
from agent.offline.nlu.entities import is_affirmative, is_negative
from tools.step_up import CODE_PLACEHOLDER, VerificationCodeSent

ACTIONS = ("cancel_order", "update_shipping_address", "issue_refund", "create_return_label")
_NEW_CODE = re.compile(
    r"\b(?:new|another|fresh|resend|re-send)\b.{0,20}\bcode\b|\bcode\b.{0,30}\b(?:again|expired|never came)\b"
    r"|\bsend (?:it|the code) again\b|\b(?:didn'?t|did not|never) (?:get|got|receive)\b.{0,20}\b(?:code|email)\b",
    re.IGNORECASE,
)
_OFFER_CODES = ("verification_code_expired", "no_code_pending")


def step_up_step(sit: Situation) -> Decision | None:
    """The step-up move for this point of the conversation, or None when there is none."""
    if not sit.can("send_verification_code"):
        return None
    conv = sit.conversation
    if sit.latest.strip() == CODE_PLACEHOLDER:
        return _after_code(sit)
    sent = conv.segment_result("send_verification_code")
    if sent is not None:
        return _after_send(sit, sent)
    required = next((o for o in reversed(conv.segment_outcomes) if o.code == "step_up_required"), None)
    if required is not None:
        return _send(sit, required.order_number)
    pending = pending_action(conv)
    if pending is not None and wants_new_code(sit):
        return _send(sit, str(pending.args.get("order_number") or ""))
    return None


def pending_action(conv: Conversation) -> PlannedCall | None:
    """The newest action refused for want of a code, unless it was done since."""
    for outcome in reversed(conv.outcomes):
        if outcome.name in ACTIONS and outcome.code != "step_up_required":
            return None
        if outcome.name in ACTIONS:
            return PlannedCall(outcome.name, outcome.args)
    return None


def wants_new_code(sit: Situation) -> bool:
    """The shopper asks for a (new) code, or says yes to the offer of one."""
    if _NEW_CODE.search(sit.latest):
        return True
    checked = sit.conversation.latest_result("check_verification_code")
    offered = checked is not None and checked.code in _OFFER_CODES
    return offered and sit.conversation.assistant_asked_question() and _yes(sit)


def _yes(sit: Situation) -> bool:
    return is_affirmative(sit.latest) and not is_negative(sit.latest)


def _send(sit: Situation, order_number: str | None) -> Decision:
    number = order_number or mentioned_order(sit)
    if not number:
        return sit.say("orders.ask_number")
    return sit.call("send_verification_code", {"order_number": number})


def _after_send(sit: Situation, sent: ToolOutcome) -> Decision:
    emailed = sent.success(VerificationCodeSent)
    if emailed is not None:
        return sit.say(
            "step_up.sent",
            order_number=emailed.order_number,
            sent_to=emailed.sent_to,
            minutes=emailed.valid_minutes,
        )
    if sent.code == "step_up_not_needed":
        pending = pending_action(sit.conversation)
        if pending is not None and sit.can(pending.name):
            return Decision(calls=(pending,))
        return sit.say("step_up.confirmed")
    if sent.code == "too_many_codes":
        return sit.say("step_up.too_many")
    if sent.code == "verification_code_locked":
        return sit.say("step_up.locked")
    return refused(sit, sent)


def _renew(sit: Situation, checked: ToolOutcome) -> Decision:
    """An expired (or already used) code: with an action still waiting, email a new code at once
    rather than ask first, so the shopper's next message is simply the new code."""
    conv = sit.conversation
    expired = checked.code == "verification_code_expired"
    pending = pending_action(conv)
    sent = conv.segment_result("send_verification_code")
    if sent is None and pending is not None:
        return _send(sit, str(pending.args.get("order_number") or ""))
    emailed = sent.success(VerificationCodeSent) if sent is not None else None
    if emailed is not None:
        return sit.say(
            "step_up.expired_resent" if expired else "step_up.resent",
            order_number=emailed.order_number,
            sent_to=emailed.sent_to,
            minutes=emailed.valid_minutes,
        )
    if sent is not None:
        return _after_send(sit, sent)
    return sit.say("step_up.expired" if expired else "step_up.no_code")


def _after_code(sit: Situation) -> Decision | None:
    conv = sit.conversation
    checked = conv.segment_result("check_verification_code")
    if checked is None:
        sent = conv.latest_result("send_verification_code")
        pending = pending_action(conv)
        number = (sent.order_number if sent else None) or (
            pending.args.get("order_number") if pending else None
        )
        number = number or mentioned_order(sit)
        if not number:
            return sit.say("step_up.no_code")
        return sit.call("check_verification_code", {"order_number": str(number)})
    if not checked.ok:
        wrong = checked.refusal if checked.code == "verification_code_wrong" else None
        if wrong is not None:
            return sit.say("step_up.wrong", attempts_left=wrong.details.get("attempts_left", "a few"))
        if checked.code == "verification_code_locked":
            return sit.say("step_up.locked")
        return _renew(sit, checked)
    if any(o.name in ACTIONS and o.position > checked.position for o in conv.segment_outcomes):
        return None  # the action ran again: the intent's own step phrases its result
    pending = pending_action(conv)
    if pending is None or not sit.can(pending.name):
        return sit.say("step_up.confirmed")
    return Decision(calls=(pending,))
