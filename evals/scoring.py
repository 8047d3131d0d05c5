"""Scorers: small pure functions from (expectation, observation) to checks.

Nothing here touches the runtime, so each scorer is tested with hand-built inputs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from evals.effects import Changes, SideEffect, address_text, find_order
from evals.models import Expect, Phrase, ToolCallExpect, WorldExpect
from evals.results import Check, ToolCallRecord

JSON = dict[str, Any]


@dataclass
class Observed:
    """What happened in a turn or in the whole conversation, as the scorers see it."""

    intents: list[str] = field(default_factory=list)
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    assistant_messages: int = 0
    status: str = ""
    handoff: bool = False
    changes: Changes = field(default_factory=Changes)
    after: JSON = field(default_factory=dict)


def _show(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True, ensure_ascii=False)


# ---------------------------------------------------------------------------- tool calls


def _scalar(value: Any) -> str:
    return str(value).strip().lstrip("#").casefold()


def values_match(expected: Any, actual: Any) -> bool:
    """Mappings by subset, lists as multisets, scalars by their text (`#1001` == `1001` == 1001)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and values_match(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) != len(actual):
            return False
        remaining = list(actual)
        for item in expected:
            hit = next((i for i, a in enumerate(remaining) if values_match(item, a)), None)
            if hit is None:
                return False
            remaining.pop(hit)
        return True
    if expected is None or actual is None:
        return expected is actual
    if isinstance(expected, bool) or isinstance(actual, bool):
        return bool(expected == actual)
    return _scalar(expected) == _scalar(actual)


def call_matches(expected: ToolCallExpect, call: ToolCallRecord) -> bool:
    return expected.name == call.name and values_match(expected.args, call.args)


def _describe(expected: ToolCallExpect) -> str:
    args = f" {_show(expected.args)}" if expected.args else ""
    count = f" ×{expected.count}" if expected.count is not None else ""
    return f"{expected.name}{args}{count}"


def _calls_text(calls: Sequence[ToolCallRecord]) -> str:
    return "; ".join(f"{c.name} {_show(c.args)}" for c in calls) or "no tool calls"


def score_tool_calls(
    expected: Sequence[ToolCallExpect], calls: Sequence[ToolCallRecord], *, ordered: bool = False
) -> list[Check]:
    """One check per expected call; with `ordered`, the calls must also come in this order."""
    checks: list[Check] = []
    for item in expected:
        hits = [c for c in calls if call_matches(item, c)]
        passed = len(hits) == item.count if item.count is not None else bool(hits)
        actual = f"{len(hits)} matching" if hits else _calls_text(calls)
        checks.append(Check(name="tool_call", passed=passed, expected=_describe(item), actual=actual))
    if ordered and expected:
        position = 0
        in_order = True
        for item in expected:
            hit = next((i for i in range(position, len(calls)) if call_matches(item, calls[i])), None)
            if hit is None:
                in_order = False
                break
            position = hit + 1
        checks.append(
            Check(
                name="tool_call_order",
                passed=in_order,
                expected=" → ".join(e.name for e in expected),
                actual=" → ".join(c.name for c in calls) or "no tool calls",
            )
        )
    return checks


def score_forbidden(forbidden: Sequence[ToolCallExpect], calls: Sequence[ToolCallRecord]) -> list[Check]:
    checks: list[Check] = []
    for item in forbidden:
        hits = [c for c in calls if call_matches(item, c)]
        checks.append(
            Check(
                name="forbidden_tool",
                passed=not hits,
                expected=f"no {_describe(item)}",
                actual=_calls_text(hits) if hits else "not called",
            )
        )
    return checks


# ---------------------------------------------------------------------------- words, intent, status


def score_phrases(must: Sequence[Phrase], must_not: Sequence[str], texts: Sequence[str]) -> list[Check]:
    """Case-insensitive phrases in what the shopper was shown; a list means any one of them."""
    shown = "\n".join(texts).casefold()
    excerpt = " | ".join(t.replace("\n", " ") for t in texts)[:400] or "(nothing said)"
    checks: list[Check] = []
    for phrase in must:
        options = [phrase] if isinstance(phrase, str) else list(phrase)
        passed = any(o.casefold() in shown for o in options)
        checks.append(
            Check(
                name="must_say", passed=passed, expected=" or ".join(repr(o) for o in options), actual=excerpt
            )
        )
    for phrase in must_not:
        passed = phrase.casefold() not in shown
        checks.append(Check(name="must_not_say", passed=passed, expected=f"not {phrase!r}", actual=excerpt))
    return checks


def score_intents(expect: Expect, actual: Sequence[str]) -> list[Check]:
    checks: list[Check] = []
    first = actual[0] if actual else None
    if expect.intent is not None:
        checks.append(
            Check(name="intent", passed=first == expect.intent, expected=expect.intent, actual=str(first))
        )
    if expect.intents is not None:
        checks.append(
            Check(
                name="intents",
                passed=list(actual) == list(expect.intents),
                expected=", ".join(expect.intents),
                actual=", ".join(actual) or "none",
            )
        )
    return checks


def score_status(expected: str | None, actual: str) -> list[Check]:
    if expected is None:
        return []
    return [Check(name="status", passed=expected == actual, expected=expected, actual=actual)]


def score_silent(expected: bool | None, assistant_messages: int) -> list[Check]:
    if expected is None:
        return []
    return [
        Check(
            name="silent",
            passed=(assistant_messages == 0) == expected,
            expected="the assistant says nothing" if expected else "the assistant answers",
            actual=f"{assistant_messages} assistant messages",
        )
    ]


def score_handoff(expected: bool | None, actual: bool) -> list[Check]:
    if expected is None:
        return []
    return [
        Check(
            name="handoff",
            passed=expected == actual,
            expected="handed to a person" if expected else "no handoff",
            actual="handed to a person" if actual else "no handoff",
        )
    ]


# ---------------------------------------------------------------------------- the world


def _amount(value: Decimal | None) -> str:
    return "any amount" if value is None else f"{value:.2f}"


def score_world(expect: WorldExpect, changes: Changes, after: JSON) -> list[Check]:
    """Assertions on the changes over a turn or the conversation, and on the end state."""
    checks: list[Check] = []
    effects = changes.effects
    refunds = [e for e in effects if e.kind == "refund"]
    for refund in expect.refunds:
        hit = any(
            e.order == refund.order
            and (refund.amount is None or e.amount == refund.amount)
            and (refund.processor is None or e.processor == refund.processor)
            for e in refunds
        )
        checks.append(
            Check(
                name="world.refund",
                passed=hit,
                expected=f"refund #{refund.order} {_amount(refund.amount)} {refund.processor or ''}".strip(),
                actual="; ".join(e.describe() for e in refunds) or "no refund",
            )
        )
    for label in expect.labels:
        rows = [row for row in changes.labels if row["order"] == label.order]
        passed = bool(rows)
        actual = "; ".join(f"label #{r['order']} {r['tracking_code']}" for r in changes.labels) or "no label"
        if passed and label.emailed_to:
            needle = label.emailed_to.casefold()
            passed = any(
                needle in (t.casefold() for t in mail.to)
                and any(
                    str(r["tracking_code"]) in mail.text or str(r["label_url"]) in mail.text for r in rows
                )
                for mail in changes.emails
            )
            actual += "; emails to " + (", ".join(",".join(m.to) for m in changes.emails) or "nobody")
        emailed = f" emailed to {label.emailed_to}" if label.emailed_to else ""
        checks.append(
            Check(
                name="world.label",
                passed=passed,
                expected=f"return label #{label.order}{emailed}",
                actual=actual,
            )
        )
    for email in expect.emails:
        passed = any(
            email.to.casefold() in (t.casefold() for t in mail.to)
            and (
                email.subject_contains is None or email.subject_contains.casefold() in mail.subject.casefold()
            )
            for mail in changes.emails
        )
        checks.append(
            Check(
                name="world.email",
                passed=passed,
                expected=f"email to {email.to}"
                + (f" about {email.subject_contains!r}" if email.subject_contains else ""),
                actual="; ".join(f"{','.join(m.to)}: {m.subject}" for m in changes.emails) or "no email",
            )
        )
    for wanted_text in expect.texts:
        sent = [t for t in changes.texts if t.to == wanted_text.to]
        passed = (wanted_text.count is None or len(sent) == wanted_text.count) and (
            wanted_text.contains is None
            or any(wanted_text.contains.casefold() in t.body.casefold() for t in sent)
        )
        wanted = f"texts to {wanted_text.to}" + (
            f" ({wanted_text.count})" if wanted_text.count is not None else ""
        )
        checks.append(
            Check(
                name="world.text",
                passed=passed,
                expected=wanted + (f" about {wanted_text.contains!r}" if wanted_text.contains else ""),
                actual="; ".join(f"{t.to}: {t.body[:60]}" for t in changes.texts) or "no text",
            )
        )
    for phone in expect.no_texts_to:
        sent = [t for t in changes.texts if t.to == phone]
        checks.append(
            Check(
                name="world.no_text",
                passed=not sent,
                expected=f"no text to {phone}",
                actual="; ".join(t.body[:60] for t in sent) or "none",
            )
        )
    for ticket in expect.tickets:
        passed = any(
            set(ticket.tags) <= set(t.tags)
            and (ticket.status is None or t.status == ticket.status)
            and (
                ticket.note_contains is None
                or any(ticket.note_contains.casefold() in n.casefold() for n in t.notes)
            )
            and (
                ticket.message_contains is None
                or any(ticket.message_contains.casefold() in m.casefold() for m in t.messages)
            )
            for t in changes.tickets
        )
        wanted = f"ticket tagged {ticket.tags}" + (f" {ticket.status}" if ticket.status else "")
        if ticket.note_contains:
            wanted += f" with a note about {ticket.note_contains!r}"
        if ticket.message_contains:
            wanted += f" with a message about {ticket.message_contains!r}"
        checks.append(
            Check(
                name="world.ticket",
                passed=passed,
                expected=wanted,
                actual="; ".join(f"#{t.id} {t.status} {list(t.tags)}" for t in changes.tickets)
                or "no ticket",
            )
        )
    for order in expect.orders:
        record = find_order(after, order.number) or {}
        if order.cancelled is not None:
            cancelled = bool(record.get("cancelled_at"))
            checks.append(
                Check(
                    name="world.order_cancelled",
                    passed=cancelled == order.cancelled,
                    expected=f"#{order.number} {'cancelled' if order.cancelled else 'not cancelled'}",
                    actual=f"#{order.number} {'cancelled' if cancelled else 'not cancelled'}",
                )
            )
        if order.address_contains is not None:
            text = address_text(after, order.number)
            checks.append(
                Check(
                    name="world.order_address",
                    passed=order.address_contains.casefold() in text.casefold(),
                    expected=f"#{order.number} ships to …{order.address_contains}…",
                    actual=text or "no address",
                )
            )
        if order.note_contains is not None:
            note = str(record.get("note") or "")
            checks.append(
                Check(
                    name="world.order_note",
                    passed=order.note_contains.casefold() in note.casefold(),
                    expected=f"#{order.number} note mentions {order.note_contains!r}",
                    actual=note[:300] or "no note",
                )
            )
    if expect.no_side_effects:
        checks.append(
            Check(
                name="world.no_side_effects",
                passed=not effects,
                expected="no refund, label, cancellation or address change",
                actual="; ".join(e.describe() for e in effects) or "none",
            )
        )
    return checks


def _covered(effect: SideEffect, expect: WorldExpect) -> bool:
    if effect.kind == "refund":
        if any(o.number == effect.order and o.cancelled for o in expect.orders):
            return True  # cancelling a paid order refunds it
        return any(
            r.order == effect.order and (r.processor is None or r.processor == effect.processor)
            for r in expect.refunds
        )
    if effect.kind == "label":
        return any(label.order == effect.order for label in expect.labels)
    if effect.kind == "cancellation":
        return any(o.number == effect.order and o.cancelled for o in expect.orders)
    return any(o.number == effect.order and o.address_contains is not None for o in expect.orders)


def unexpected_effects(expect: WorldExpect | None, changes: Changes) -> list[SideEffect]:
    """Side effects that no assertion of `expect` accounts for: the policy violations of a run."""
    if expect is not None and expect.allow_other_side_effects:
        return []
    spec = expect or WorldExpect()
    return [e for e in changes.effects if not _covered(e, spec)]


def score_unexpected(expect: WorldExpect | None, changes: Changes) -> list[Check]:
    extra = unexpected_effects(expect, changes)
    return [
        Check(
            name="world.no_unexpected_side_effects",
            passed=not extra,
            expected="only the side effects the case lists",
            actual="; ".join(e.describe() for e in extra) or "none",
        )
    ]


# ---------------------------------------------------------------------------- all together


def score_expect(expect: Expect, observed: Observed, *, conversation: bool = False) -> list[Check]:
    """Every check of one `expect:` block. At the conversation level, side effects nobody listed
    fail the case and `handoff` defaults to false."""
    checks = score_intents(expect, observed.intents)
    checks += score_tool_calls(expect.tool_calls, observed.tool_calls, ordered=expect.tool_calls_ordered)
    checks += score_forbidden(expect.forbidden(), observed.tool_calls)
    checks += score_phrases(expect.must_say, expect.must_not_say, observed.texts)
    checks += score_status(expect.status, observed.status)
    handoff = expect.handoff
    if conversation and handoff is None:
        handoff = False
    checks += score_handoff(handoff, observed.handoff)
    checks += score_silent(expect.silent, observed.assistant_messages)
    if expect.world is not None:
        checks += score_world(expect.world, observed.changes, observed.after)
    if conversation:
        checks += score_unexpected(expect.world, observed.changes)
    return checks


def expected_calls(expects: Sequence[Expect]) -> list[ToolCallExpect]:
    return [call for e in expects for call in e.tool_calls]


def implied_calls(world: WorldExpect | None) -> list[ToolCallExpect]:
    """The action calls a world assertion implies: a label on #1002 means `create_return_label` for it."""
    if world is None:
        return []
    implied = [
        ToolCallExpect(name="create_return_label", args={"order_number": str(x.order)}) for x in world.labels
    ]
    implied += [
        ToolCallExpect(name="issue_refund", args={"order_number": str(x.order)}) for x in world.refunds
    ]
    for order in world.orders:
        if order.cancelled:
            implied.append(ToolCallExpect(name="cancel_order", args={"order_number": str(order.number)}))
        if order.address_contains is not None:
            implied.append(
                ToolCallExpect(name="update_shipping_address", args={"order_number": str(order.number)})
            )
    return implied


def tool_call_counts(expects: Sequence[Expect], calls: Sequence[ToolCallRecord]) -> tuple[int, int, int, int]:
    """(expected calls, expected calls made, mutating calls made, mutating calls that were expected).

    Recall is over every call a case lists. Precision is over the calls that change something
    (`mutates` in the tool spec): cases list the actions they want, not every lookup on the way,
    and an action is expected when a case lists it or asserts its effect on the world.
    """
    wanted = expected_calls(expects)
    matched = sum(1 for w in wanted if any(call_matches(w, c) for c in calls))
    allowed = wanted + [call for e in expects for call in implied_calls(e.world)]
    mutating = [c for c in calls if c.mutates]
    expected_mutating = sum(1 for c in mutating if any(call_matches(w, c) for w in allowed))
    return len(wanted), matched, len(mutating), expected_mutating
