"""WISMO: verify, get the tracking status, phrase it; a parcel in trouble goes to a person."""

from __future__ import annotations

import re

from agent.offline.conversation import ToolOutcome
from agent.offline.flows.common import escalate, not_possible, refused
from agent.offline.flows.formatting import day
from agent.offline.flows.opening import order_step, verification_step
from agent.offline.flows.situation import Decision, Situation
from agent.offline.nlu.entities import extract_all_order_numbers
from agent.offline.nlu.frustration import claims_not_received
from tools.tracking import ParcelStatus, TrackingResult

# "sorry, I meant #1002, not #1001" names two numbers but asks about one.
_CORRECTION = re.compile(r"\b(?:meant|mean|not|instead|sorry|actually|wrong|typo|oops)\b", re.IGNORECASE)
_KNOWN_STATUSES = frozenset(
    {"pre_transit", "in_transit", "out_for_delivery", "delivered", "return_to_sender", "failure"}
)


def wismo_step(sit: Situation) -> Decision:
    if sit.conversation.segment_result("escalate_to_human") is not None:
        return sit.say("escalation.handed_over")
    verify = verification_step(sit)
    if verify is not None:
        return verify
    number, find = order_step(sit)
    if find is not None or number is None:
        return find or sit.say("orders.ask_number")
    # "where are #1001 and #1006?": every order named in the request, one tool call at a time.
    named = [] if _CORRECTION.search(sit.clause) else extract_all_order_numbers(sit.clause)
    numbers = list(dict.fromkeys([number, *named]))
    results: list[ToolOutcome] = []
    for wanted in numbers:
        tracking = sit.conversation.segment_result("get_tracking_status", wanted)
        if tracking is None:
            if not sit.can("get_tracking_status"):
                return not_possible(sit, wanted)
            return sit.call("get_tracking_status", {"order_number": wanted})
        results.append(tracking)
    missing = _delivered_not_received(sit, results)
    if missing is not None:
        return missing
    texts: list[str] = []
    problems: list[tuple[str, str]] = []
    for outcome in results:
        tracked = outcome.success(TrackingResult)
        if tracked is not None:
            text, trouble = _phrase_tracking(sit, tracked)
            texts.append(text)
            problems += [(outcome.order_number or "", p) for p in trouble]
        else:
            texts.append(refused(sit, outcome).text)
    text = "\n\n".join(texts)
    if problems and sit.can("escalate_to_human"):
        warning = sit.replies.render("wismo.exception", problem=" ".join(p for _, p in problems))
        return escalate(
            sit,
            reason="parcel problem",
            order_number=problems[0][0] or None,
            facts="Tracking: " + " ".join(p for _, p in problems),
            text=f"{text}\n\n{warning}",
        )
    return Decision(text=text)


def _delivered_not_received(sit: Situation, results: list[ToolOutcome]) -> Decision | None:
    """A parcel the carrier marked delivered that the shopper says never came: showing the same
    tracking again is a dead end; a person opens a claim, with the tracking details in the note."""
    if not claims_not_received(sit.clause) or not sit.can("escalate_to_human"):
        return None
    for outcome in results:
        tracked = outcome.success(TrackingResult)
        delivered = [p for p in tracked.parcels if p.status == "delivered"] if tracked is not None else []
        if tracked is None or not delivered:
            continue
        parcel = delivered[0]
        carrier = parcel.carrier or "the carrier"
        when = day(parcel.last_events[0].at, None, sit.replies.language) if parcel.last_events else "recently"
        facts = (
            f"Delivered but not received: {carrier} tracking {parcel.tracking_number} marked delivered {when}; "
            "the shopper says the parcel never reached them."
        )
        text = sit.replies.render(
            "wismo.not_received", carrier=carrier, tracking_number=parcel.tracking_number
        )
        return escalate(sit, "delivered but not received", tracked.order_number, facts=facts, text=text)
    return None


def _phrase_tracking(sit: Situation, result: TrackingResult) -> tuple[str, list[str]]:
    """The reply about one order's parcels, and the problems that need a person."""
    number = result.order_number
    parcels = result.parcels
    if not result.shipped or not parcels:
        key = "wismo.cancelled" if result.cancelled else "wismo.not_shipped"
        return sit.replies.render(key, order_number=number), []
    paragraphs = [sit.replies.render("wismo.header", order_number=number)]
    for index, parcel in enumerate(parcels, start=1):
        prefix = f"Parcel {index} of {len(parcels)}: " if len(parcels) > 1 else ""
        paragraphs.append(prefix + _parcel_text(sit, parcel))
    return "\n\n".join(paragraphs), [p.exception for p in parcels if p.exception]


def _parcel_text(sit: Situation, parcel: ParcelStatus) -> str:
    render = sit.replies.render
    status = parcel.status or "unknown"
    carrier = parcel.carrier or "the carrier"
    tracking_number = parcel.tracking_number
    events = parcel.last_events
    if status in _KNOWN_STATUSES:
        sentences = [render(f"wismo.status_{status}", carrier=carrier, tracking_number=tracking_number)]
    else:
        sentences = [
            render("wismo.status_other", carrier=carrier, tracking_number=tracking_number, status=status)
        ]
    if status == "delivered" and events:
        sentences.append(
            render("wismo.delivered_on", when=day(events[0].at, sit.today, sit.replies.language))
        )
    elif parcel.estimated_delivery and status not in ("delivered", "return_to_sender"):
        sentences.append(
            render("wismo.eta", eta=day(parcel.estimated_delivery, sit.today, sit.replies.language))
        )
    elif status not in ("delivered", "return_to_sender", "failure"):
        sentences.append(render("wismo.no_eta"))
    if events:
        latest = events[0]
        place = [latest.location] if latest.location else []
        details = ", ".join([*place, day(latest.at, sit.today, sit.replies.language)])
        sentences.append(render("wismo.latest_event", event=latest.message.rstrip("."), details=details))
    if parcel.tracking_url:
        sentences.append(render("wismo.link", url=parcel.tracking_url))
    return " ".join(s for s in sentences if s)
