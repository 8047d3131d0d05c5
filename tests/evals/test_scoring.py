"""The scorers: pure functions from expectations and observations to checks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from evals.effects import Changes, Email, SideEffect, TicketState, changes
from evals.models import Expect, ToolCallExpect, WorldExpect
from evals.results import ToolCallRecord
from evals.scoring import (
    Observed,
    call_matches,
    implied_calls,
    score_expect,
    score_forbidden,
    score_intents,
    score_phrases,
    score_silent,
    score_tool_calls,
    score_world,
    tool_call_counts,
    unexpected_effects,
    values_match,
)

JSON = dict[str, Any]


def call(name: str, mutates: bool = False, **args: Any) -> ToolCallRecord:
    return ToolCallRecord(id=f"c-{name}", name=name, args=args, mutates=mutates, outcome="ok")


# ---------------------------------------------------------------------------- argument matching


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        ("1001", "1001", True),
        ("1001", "#1001", True),
        (1001, "1001", True),
        ("ANA@example.com", "ana@example.com", True),
        ("1001", "1002", False),
        ({"order_number": "1001"}, {"order_number": "1001", "reason": "x"}, True),
        ({"order_number": "1001", "reason": "x"}, {"order_number": "1001"}, False),
        ({"address": {"zip": "07310"}}, {"address": {"zip": "07310", "city": "Jersey City"}}, True),
        (["b", "a"], ["a", "b"], True),
        (["a"], ["a", "b"], False),
        (None, None, True),
        (None, "x", False),
        (True, "True", False),
    ],
)
def test_values_match(expected: Any, actual: Any, matches: bool) -> None:
    assert values_match(expected, actual) is matches


def test_call_matches_needs_the_name_and_the_argument_subset() -> None:
    made = call("issue_refund", order_number="1005", line_item_ids=None, reason="damaged")
    assert call_matches(ToolCallExpect(name="issue_refund", args={"order_number": "1005"}), made)
    assert not call_matches(ToolCallExpect(name="issue_refund", args={"order_number": "1002"}), made)
    assert not call_matches(ToolCallExpect(name="cancel_order", args={"order_number": "1005"}), made)


# ---------------------------------------------------------------------------- tool calls


def test_expected_calls_pass_when_made_and_fail_with_what_was_made() -> None:
    calls = [
        call("verify_customer", email="a@x.com", order_number="1001"),
        call("get_tracking_status", order_number="1001"),
    ]
    checks = score_tool_calls(
        [
            ToolCallExpect(name="get_tracking_status", args={"order_number": "1001"}),
            ToolCallExpect(name="lookup_order"),
        ],
        calls,
    )
    assert [c.passed for c in checks] == [True, False]
    assert "verify_customer" in checks[1].actual and "get_tracking_status" in checks[1].actual


def test_ordered_calls_must_come_in_that_order() -> None:
    calls = [call("get_tracking_status"), call("verify_customer")]
    expected = [ToolCallExpect(name="verify_customer"), ToolCallExpect(name="get_tracking_status")]
    unordered = score_tool_calls(expected, calls)
    ordered = score_tool_calls(expected, calls, ordered=True)
    assert all(c.passed for c in unordered)
    assert ordered[-1].name == "tool_call_order" and not ordered[-1].passed
    assert ordered[-1].actual == "get_tracking_status → verify_customer"


def test_count_is_exact() -> None:
    calls = [call("verify_customer"), call("verify_customer")]
    assert score_tool_calls([ToolCallExpect(name="verify_customer", count=2)], calls)[0].passed
    assert not score_tool_calls([ToolCallExpect(name="verify_customer", count=1)], calls)[0].passed
    assert score_tool_calls([ToolCallExpect(name="issue_refund", count=0)], calls)[0].passed


def test_forbidden_calls_by_name_or_by_arguments() -> None:
    calls = [call("lookup_order", order_number="1001")]
    assert not score_forbidden([ToolCallExpect(name="lookup_order")], calls)[0].passed
    by_args = score_forbidden([ToolCallExpect(name="lookup_order", args={"order_number": "1002"})], calls)
    assert by_args[0].passed and by_args[0].actual == "not called"


def test_forbidden_tools_accept_plain_names_in_the_case_format() -> None:
    expect = Expect.model_validate(
        {"forbidden_tools": ["issue_refund", {"name": "lookup_order", "args": {"order_number": "1"}}]}
    )
    assert [f.name for f in expect.forbidden()] == ["issue_refund", "lookup_order"]
    assert expect.forbidden()[1].args == {"order_number": "1"}


# ---------------------------------------------------------------------------- phrases, intent, silence


def test_phrases_are_case_insensitive_and_a_list_means_any_of_them() -> None:
    texts = ["Your parcel is on its way with UPS.", "Anything else?"]
    checks = score_phrases(["ups", ["delivered", "ON ITS WAY"]], ["refund"], texts)
    assert all(c.passed for c in checks)
    failing = score_phrases(["FedEx"], ["with ups"], texts)
    assert [c.passed for c in failing] == [False, False]
    assert "on its way" in failing[0].actual


def test_phrases_on_an_empty_turn() -> None:
    check = score_phrases(["hello"], [], [])[0]
    assert not check.passed and check.actual == "(nothing said)"


def test_intent_is_the_first_handled_and_intents_the_exact_list() -> None:
    expect = Expect(intent="wismo", intents=["wismo", "returns"])
    assert all(c.passed for c in score_intents(expect, ["wismo", "returns"]))
    checks = score_intents(expect, ["returns", "wismo"])
    assert [c.passed for c in checks] == [False, False]
    assert score_intents(Expect(intent="other"), [])[0].actual == "None"


def test_silence() -> None:
    assert score_silent(True, 0)[0].passed
    assert not score_silent(True, 1)[0].passed
    assert score_silent(False, 2)[0].passed
    assert score_silent(None, 3) == []


# ---------------------------------------------------------------------------- world changes


def test_changes_find_shopify_and_stripe_refunds_labels_emails_and_tickets(before: JSON, after: JSON) -> None:
    after["shopify"]["orders"]["5200001001"]["refunds"] = [
        {
            "id": 7,
            "transactions": [
                {"kind": "refund", "amount": "400.00"},
                {"kind": "refund", "amount": "80.00"},
                {"kind": "suggested_refund", "amount": "1.00"},
            ],
        }
    ]
    after["stripe"]["refunds"]["re_1"] = {
        "id": "re_1",
        "amount": 8097,
        "payment_intent": "pi_1009",
        "metadata": {},
    }
    after["easypost"]["shipments"]["shp_1"] = {
        "reference": "return-1001-sa-abc",
        "tracking_code": "9434",
        "postage_label": {"label_url": "http://x/label.png"},
        "is_return": True,
    }
    after["sendgrid"]["outbox"].append(
        {
            "message_id": "m1",
            "to": ["ana@example.com"],
            "subject": "Your return label",
            "text": "http://x/label.png",
        }
    )
    after["gorgias"]["tickets"]["9"] = {
        "id": 9,
        "status": "open",
        "tags": [{"name": "ai_handover"}],
        "messages": [
            {"channel": "internal-note", "body_text": "Summary: parcel lost"},
            {"channel": "chat", "body_text": "hello?"},
        ],
    }
    found = changes(before, after)
    assert [e.describe() for e in found.effects] == [
        "refund #1001 480.00 via shopify",
        "refund #1009 80.97 via stripe",
        "label #1001 9434",
    ]
    assert found.emails == [Email(("ana@example.com",), "Your return label", "http://x/label.png\n")]
    assert found.tickets == [
        TicketState("9", "open", ("ai_handover",), ("Summary: parcel lost",), ("hello?",))
    ]


def test_changes_find_cancellations_and_address_changes_only(before: JSON, after: JSON) -> None:
    orders = after["shopify"]["orders"]
    orders["5200001001"]["cancelled_at"] = "2026-11-20T15:00:00Z"
    orders["5200001009"]["shipping_address"] = {"address1": "500 Washington Blvd", "city": "Jersey City"}
    orders["5200001009"]["note"] = "appended"  # a note is bookkeeping, not a side effect
    kinds = [(e.kind, e.order) for e in changes(before, after).effects]
    assert kinds == [("cancellation", 1001), ("address_change", 1009)]
    assert changes(before, before).effects == []


def _changes(*effects: SideEffect, emails: tuple[Email, ...] = (), labels: tuple[JSON, ...] = ()) -> Changes:
    return Changes(effects=list(effects), emails=list(emails), labels=list(labels))


def test_refund_assertion_checks_order_amount_and_processor() -> None:
    found = _changes(SideEffect("refund", 1009, Decimal("80.97"), "stripe"))
    ok = WorldExpect.model_validate({"refunds": [{"order": 1009, "amount": "80.97", "processor": "stripe"}]})
    wrong_amount = WorldExpect.model_validate({"refunds": [{"order": 1009, "amount": "80.00"}]})
    wrong_processor = WorldExpect.model_validate({"refunds": [{"order": 1009, "processor": "shopify"}]})
    assert score_world(ok, found, {})[0].passed
    assert not score_world(wrong_amount, found, {})[0].passed
    assert not score_world(wrong_processor, found, {})[0].passed


def test_label_assertion_checks_the_email_carries_the_label() -> None:
    label = {"order": 1002, "tracking_code": "9434", "label_url": "http://x/l.png", "is_return": True}
    emailed = Email(("ben@example.com",), "Your return label", "Label: http://x/l.png")
    expect = WorldExpect.model_validate({"labels": [{"order": 1002, "emailed_to": "BEN@example.com"}]})
    effect = SideEffect("label", 1002)
    assert score_world(expect, _changes(effect, emails=(emailed,), labels=(label,)), {})[0].passed
    other = Email(("ben@example.com",), "Hello", "no label here")
    assert not score_world(expect, _changes(effect, emails=(other,), labels=(label,)), {})[0].passed
    assert not score_world(expect, _changes(), {})[0].passed


def test_ticket_assertion() -> None:
    ticket = TicketState(
        "9", "open", ("ai-handled", "ai_handover"), ("Summary: parcel lost",), ("is anyone there?",)
    )
    found = Changes(tickets=[ticket])
    good = WorldExpect.model_validate(
        {
            "tickets": [
                {
                    "tags": ["ai_handover"],
                    "status": "open",
                    "note_contains": "PARCEL",
                    "message_contains": "anyone",
                }
            ]
        }
    )
    assert score_world(good, found, {})[0].passed
    for bad in ({"tags": ["refund-approval"]}, {"status": "closed"}, {"note_contains": "refund"}):
        assert not score_world(WorldExpect.model_validate({"tickets": [bad]}), found, {})[0].passed


def test_order_assertions_read_the_end_state(after: JSON) -> None:
    record = after["shopify"]["orders"]["5200001001"]
    record["cancelled_at"] = "2026-11-20T15:00:00Z"
    record["note"] = "[2026-11-20] Return label USPS 9434"
    expect = WorldExpect.model_validate(
        {
            "orders": [
                {
                    "number": 1001,
                    "cancelled": True,
                    "address_contains": "old st",
                    "note_contains": "return label",
                }
            ]
        }
    )
    assert [c.passed for c in score_world(expect, Changes(), after)] == [True, True, True]
    not_cancelled = WorldExpect.model_validate({"orders": [{"number": 1009, "cancelled": True}]})
    assert not score_world(not_cancelled, Changes(), after)[0].passed


def test_no_side_effects() -> None:
    expect = WorldExpect(no_side_effects=True)
    assert score_world(expect, Changes(), {})[0].passed
    check = score_world(expect, _changes(SideEffect("label", 1002)), {})[0]
    assert not check.passed and "label #1002" in check.actual


def test_unexpected_side_effects_are_violations_unless_listed_or_allowed() -> None:
    found = _changes(
        SideEffect("cancellation", 1004),
        SideEffect("refund", 1004, Decimal("354.00"), "shopify"),
        SideEffect("refund", 1005, Decimal("480.00"), "shopify"),
    )
    cancel_only = WorldExpect.model_validate({"orders": [{"number": 1004, "cancelled": True}]})
    assert [e.order for e in unexpected_effects(cancel_only, found)] == [
        1005
    ]  # the cancellation's refund is part of it
    assert len(unexpected_effects(None, found)) == 3
    assert unexpected_effects(WorldExpect(allow_other_side_effects=True), found) == []


# ---------------------------------------------------------------------------- a whole expect block


def test_conversation_level_defaults_fail_surprise_handoffs_and_side_effects() -> None:
    observed = Observed(
        handoff=True, changes=_changes(SideEffect("refund", 1005, Decimal("1.00"), "shopify"))
    )
    turn_checks = score_expect(Expect(), observed)
    assert turn_checks == []
    conversation = score_expect(Expect(), observed, conversation=True)
    assert {c.name: c.passed for c in conversation} == {
        "handoff": False,
        "world.no_unexpected_side_effects": False,
    }
    expected = Expect.model_validate({"handoff": True, "world": {"refunds": [{"order": 1005}]}})
    assert all(c.passed for c in score_expect(expected, observed, conversation=True))


def test_expect_block_combines_every_scorer() -> None:
    expect = Expect.model_validate(
        {
            "intent": "wismo",
            "tool_calls": [{"name": "get_tracking_status", "args": {"order_number": "1001"}}],
            "forbidden_tools": ["issue_refund"],
            "must_say": ["UPS"],
            "must_not_say": ["refund"],
            "status": "active",
            "silent": False,
        }
    )
    observed = Observed(
        intents=["wismo"],
        tool_calls=[call("get_tracking_status", order_number="1001")],
        texts=["On its way with UPS."],
        assistant_messages=1,
        status="active",
    )
    checks = score_expect(expect, observed)
    assert len(checks) == 7 and all(c.passed for c in checks)


def test_tool_call_counts_precision_counts_actions_the_case_expects() -> None:
    expects = [
        Expect.model_validate({"tool_calls": [{"name": "get_tracking_status"}, {"name": "lookup_order"}]}),
        Expect.model_validate({"world": {"labels": [{"order": 1002}]}}),
    ]
    calls = [
        call("get_tracking_status"),
        call("create_return_label", mutates=True, order_number="1002"),
        call("issue_refund", mutates=True, order_number="1002"),
    ]
    assert tool_call_counts(expects, calls) == (2, 1, 2, 1)


def test_implied_calls_from_world_assertions() -> None:
    world = WorldExpect.model_validate(
        {
            "labels": [{"order": 1002}],
            "refunds": [{"order": 1009}],
            "orders": [{"number": 1004, "cancelled": True}, {"number": 1012, "address_contains": "Lake"}],
        }
    )
    assert [(c.name, c.args["order_number"]) for c in implied_calls(world)] == [
        ("create_return_label", "1002"),
        ("issue_refund", "1009"),
        ("cancel_order", "1004"),
        ("update_shipping_address", "1012"),
    ]
    assert implied_calls(None) == []
