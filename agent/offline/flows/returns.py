"""Returns: verify, check eligibility item by item, then ask for the label (the graph confirms).

Which items: the ones the shopper named (fuzzy-matched against the order's titles, in this
message or a recent one), else every returnable item. When some items cannot go back (final sale,
outside the window) the reasons from the tool are given and the others are offered instead.
"""

from __future__ import annotations

from typing import Any

from agent.offline.conversation import ToolOutcome
from agent.offline.flows.common import (
    declined_step,
    not_possible,
    refused,
    said_yes,
    shopper_reason,
)
from agent.offline.flows.formatting import bullets, join
from agent.offline.flows.opening import verified_order_number
from agent.offline.flows.situation import Decision, Situation
from agent.offline.nlu.entities import match_line_items

ITEM_MATCH_THRESHOLD = 85.0
# How many shopper messages back an item name still counts ("return the mug" … "ben@…" … "#1002").
ITEM_LOOKBACK = 4
_BLOCKING_CODES = frozenset(
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
    if not eligibility.ok:
        return refused(sit, eligibility)
    return _choose_items(sit, number, eligibility.result)


def _choose_items(sit: Situation, number: str, result: dict[str, Any]) -> Decision:
    items = [i for i in result.get("items") or [] if isinstance(i, dict)]
    eligible = [i for i in items if i.get("returnable")]
    named = [items[k] for k in named_items(sit, [str(i.get("title")) for i in items])]
    named_ok = [i for i in named if i.get("returnable")]
    named_blocked = [i for i in named if not i.get("returnable")]
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
    blocked = [i for i in items if not i.get("returnable")]
    if blocked:
        return _offer(sit, number, blocked, eligible)
    return _label(sit, number, eligible)


def _reasons(items: list[dict[str, Any]]) -> str:
    return bullets(
        [
            f"{i.get('title')}: {i.get('explanation') or i.get('reason')}"
            for i in items
            if not i.get("returnable")
        ]
    )


def _offer(
    sit: Situation, number: str, blocked: list[dict[str, Any]], offered: list[dict[str, Any]]
) -> Decision:
    return sit.say(
        "returns.partial_offer",
        order_number=number,
        reasons=_reasons(blocked),
        offer=join([str(i.get("title")) for i in offered]),
    )


def _label(sit: Situation, number: str, items: list[dict[str, Any]]) -> Decision:
    if not sit.can("create_return_label"):
        return not_possible(sit, number)
    args = {
        "order_number": number,
        "line_item_ids": [str(i["line_item_id"]) for i in items],
        "reason": shopper_reason(sit, "requested by the shopper in chat"),
    }
    return sit.call("create_return_label", args)


def _label_reply(sit: Situation, outcome: ToolOutcome) -> Decision:
    result = outcome.result
    if outcome.ok:
        return sit.say(
            "returns.label_created",
            order_number=result.get("order_number"),
            items=join([str(i) for i in result.get("items") or []]),
            carrier=result.get("carrier"),
            tracking_number=result.get("tracking_number"),
            label_url=result.get("label_url"),
            emailed_to=result.get("emailed_to"),
        )
    if outcome.code in _BLOCKING_CODES:
        # These refusal messages are built from the per-item explanations: fit for the shopper.
        return sit.say(
            "returns.label_refused", order_number=outcome.order_number or "", reasons=result.get("message")
        )
    return refused(sit, outcome)
