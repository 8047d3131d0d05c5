"""Returns: verify, check eligibility item by item, then ask for the label (the graph confirms).

Which items: the ones the shopper named (fuzzy-matched against the order's titles, in this
message or a recent one), else every returnable item. When some items cannot go back (final sale,
outside the window) the reasons from the tool are given and the others are offered instead.
"""

from __future__ import annotations

from agent.offline.conversation import ToolOutcome
from agent.offline.flows.common import (
    declined_step,
    not_possible,
    refused,
    said_yes,
    shopper_reason,
)
from agent.offline.flows.formatting import alternatives, bullets, join
from agent.offline.flows.opening import verified_order_number
from agent.offline.flows.situation import Decision, Situation
from agent.offline.nlu.entities import ambiguous_line_items, match_line_items
from tools.results import RefusalCode
from tools.returns import ItemEligibility, ReturnEligibility, ReturnLabelCreated

ITEM_MATCH_THRESHOLD = 85.0
# How many shopper messages back an item name still counts ("return the mug" … "ben@…" … "#1002").
ITEM_LOOKBACK = 4
_BLOCKING_CODES: frozenset[RefusalCode] = frozenset(
    {
        "final_sale",
        "outside_return_window",
        "not_delivered",
        "already_returned",
        "no_eligible_items",
        "label_limit_reached",
    }
)


def named_items(sit: Situation, titles: list[str]) -> list[int]:
    """Indexes of the items the shopper named, newest message first."""
    texts = [sit.clause, *sit.conversation.shopper_texts()[1:ITEM_LOOKBACK]]
    for text in texts:
        found = match_line_items(text, titles, ITEM_MATCH_THRESHOLD)
        if found:
            return found
    return []


def ambiguous_items(sit: Situation, titles: list[str]) -> list[int]:
    """The items the shopper's newest naming could mean when it fits several ("the merino one")."""
    texts = [sit.clause, *sit.conversation.shopper_texts()[1:ITEM_LOOKBACK]]
    for text in texts:
        if match_line_items(text, titles, ITEM_MATCH_THRESHOLD):
            return ambiguous_line_items(text, titles, ITEM_MATCH_THRESHOLD)
    return []


def ask_which(sit: Situation, titles: list[str], candidates: list[int]) -> Decision:
    """Ask which item is meant rather than guess (a reflex "yes" must not pay for the wrong one)."""
    options = [titles[k] for k in candidates]
    return sit.say("common.which_item", options=alternatives(options, sit.replies.language))


def returns_step(sit: Situation) -> Decision:
    declined = declined_step(sit, ("create_return_label",))
    if declined is not None:
        return declined
    label = sit.conversation.segment_result("create_return_label")
    if label is not None:
        return _label_reply(sit, label)
    number = verified_order_number(sit)
    if isinstance(number, Decision):
        return number
    eligibility = sit.conversation.segment_result("check_return_eligibility", number)
    if eligibility is None:
        if not sit.can("check_return_eligibility"):
            return not_possible(sit, number)
        return sit.call("check_return_eligibility", {"order_number": number})
    assessed = eligibility.success(ReturnEligibility)
    if assessed is None:
        return refused(sit, eligibility)
    return _choose_items(sit, number, assessed.items)


def _choose_items(sit: Situation, number: str, items: list[ItemEligibility]) -> Decision:
    titles = [i.title for i in items]
    unclear = ambiguous_items(sit, titles)
    if unclear and not said_yes(sit):
        return ask_which(sit, titles, unclear)
    eligible = [i for i in items if i.returnable]
    named = [items[k] for k in named_items(sit, [i.title for i in items])]
    named_ok = [i for i in named if i.returnable]
    named_blocked = [i for i in named if not i.returnable]
    if said_yes(sit) and (named_ok or eligible):
        return _label(sit, number, named_ok or eligible)
    if not eligible:
        return sit.say("returns.not_returnable", order_number=number, reasons=_reasons(items))
    if named_ok and not named_blocked:
        return _label(sit, number, named_ok)
    if named_ok:
        return _offer(sit, number, named_blocked, named_ok)
    if named_blocked:
        return _offer(sit, number, named_blocked, eligible)
    blocked = [i for i in items if not i.returnable]
    if blocked:
        return _offer(sit, number, blocked, eligible)
    return _label(sit, number, eligible)


def _reasons(items: list[ItemEligibility]) -> str:
    return bullets([f"{i.title}: {i.explanation or i.reason}" for i in items if not i.returnable])


def _offer(
    sit: Situation, number: str, blocked: list[ItemEligibility], offered: list[ItemEligibility]
) -> Decision:
    return sit.say(
        "returns.partial_offer",
        order_number=number,
        reasons=_reasons(blocked),
        offer=join([i.title for i in offered], sit.replies.language),
    )


def _label(sit: Situation, number: str, items: list[ItemEligibility]) -> Decision:
    if not sit.can("create_return_label"):
        return not_possible(sit, number)
    args = {
        "order_number": number,
        "line_item_ids": [i.line_item_id for i in items],
        "reason": shopper_reason(sit, "requested by the shopper in chat"),
    }
    return sit.call("create_return_label", args)


def _label_reply(sit: Situation, outcome: ToolOutcome) -> Decision:
    created = outcome.success(ReturnLabelCreated)
    if created is not None:
        return sit.say(
            "returns.label_created",
            order_number=created.order_number,
            items=join(created.items, sit.replies.language),
            carrier=created.carrier,
            tracking_number=created.tracking_number,
            label_url=created.label_url,
            emailed_to=created.emailed_to,
        )
    refusal = outcome.refusal
    if refusal is not None and refusal.code in _BLOCKING_CODES:
        # The items and why they cannot go back; a refusal about the order as a whole (the label
        # limit) is worded for the shopper too.
        reasons = "; ".join(refusal.excluded) if refusal.excluded else refusal.message
        return sit.say("returns.label_refused", order_number=outcome.order_number or "", reasons=reasons)
    return refused(sit, outcome)
