"""StorePolicy: loading it from YAML (with clear errors), and a changed policy changing what the
tools do."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from tests.tools.conftest import EMAILS, Harness
from tools.policy import PolicyError, StorePolicy
from tools.refunds import (
    RefundEligibility,
    RefundIssued,
    RefundPendingApproval,
    check_refund_eligibility,
    issue_refund,
)
from tools.results import Refusal
from tools.returns import ReturnEligibility, ReturnLabelCreated, check_return_eligibility, create_return_label


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_defaults_are_the_demo_stores_policy() -> None:
    policy = StorePolicy()
    assert policy.return_window_days == 30
    assert policy.final_sale_tags == ("final-sale",)
    assert policy.refund_auto_approve_limit == Decimal("100.00")
    assert policy.currency == "USD"
    assert policy.max_verification_attempts == 5
    assert policy.stuck_after_days == 5


def test_from_yaml_reads_a_good_file_over_the_settings_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "return_window_days: 60\nrefund_auto_approve_limit: '500.00'\nfinal_sale_tags: [clearance, Final-Sale]\n",
    )
    policy = StorePolicy.from_yaml(path, currency="EUR", return_window_days=14)
    assert policy.return_window_days == 60, "the file wins over settings"
    assert policy.refund_auto_approve_limit == Decimal("500.00")
    assert policy.final_sale_tags == ("clearance", "Final-Sale")
    assert policy.currency == "EUR", "keys the file does not set keep the settings' value"
    assert policy.max_verification_attempts == 5
    assert policy.is_final_sale(("summer", "final-sale")), "tags match without regard to case"
    assert not policy.is_final_sale(("sale",))


def test_an_empty_file_keeps_the_defaults(tmp_path: Path) -> None:
    assert StorePolicy.from_yaml(write(tmp_path, "")) == StorePolicy()


def test_a_missing_file_is_a_policy_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(PolicyError) as error:
        StorePolicy.from_yaml(path)
    assert str(path) in str(error.value)
    assert "POLICY_FILE" in str(error.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("return_window_days: [30\n", "not valid YAML"),
        ("- 30\n- 60\n", "mapping"),
        ("return_window_days: -1\n", "return_window_days"),
        ("refund_auto_approve_limit: lots\n", "refund_auto_approve_limit"),
        ("currency: dollars\n", "currency"),
        ("max_verification_attempts: 0\n", "max_verification_attempts"),
        ("return_windw_days: 60\n", "return_windw_days"),
    ],
    ids=[
        "bad-yaml",
        "not-a-mapping",
        "negative-window",
        "bad-limit",
        "bad-currency",
        "zero-attempts",
        "typo",
    ],
)
def test_a_bad_file_is_a_policy_error_naming_the_file(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as error:
        StorePolicy.from_yaml(path)
    assert str(path) in str(error.value)
    assert words in str(error.value)


# ---------------------------------------------------------------------- a changed policy, changed outcomes


async def test_a_sixty_day_window_makes_the_old_order_returnable(harness: Harness, tmp_path: Path) -> None:
    policy = StorePolicy.from_yaml(write(tmp_path, "return_window_days: 60\n"))
    ctx = harness.ctx(EMAILS["1003"], deps=replace(harness.deps, policy=policy))
    eligibility = await harness.call(check_return_eligibility, ctx, order_number="1003")
    assert isinstance(eligibility, ReturnEligibility)
    assert [i.returnable for i in eligibility.items] == [True]
    label = await harness.call(create_return_label, ctx, order_number="1003", line_item_ids=None, reason="x")
    assert isinstance(label, ReturnLabelCreated)
    assert len(harness.labels()) == 1
    # And under the default policy it is refused.
    default = await harness.call(check_return_eligibility, harness.ctx(EMAILS["1003"]), order_number="1003")
    assert isinstance(default, ReturnEligibility)
    assert default.items[0].reason == "outside_return_window"


async def test_a_five_day_window_closes_a_recent_order(harness: Harness) -> None:
    ctx = harness.ctx(EMAILS["1002"], deps=harness.with_policy(return_window_days=5))
    result = await harness.call(issue_refund, ctx, order_number="1002", line_item_ids=None, reason="x")
    assert isinstance(result, Refusal)
    assert result.code == "outside_return_window"
    assert harness.shopify_refunds(1002) == []


async def test_a_500_limit_refunds_the_480_order_at_once(harness: Harness, tmp_path: Path) -> None:
    policy = StorePolicy.from_yaml(write(tmp_path, "refund_auto_approve_limit: 500\n"))
    ctx = harness.ctx(EMAILS["1005"], deps=replace(harness.deps, policy=policy))
    check = await harness.call(check_refund_eligibility, ctx, order_number="1005", line_item_ids=None)
    assert isinstance(check, RefundEligibility)
    assert check.within_auto_approval_limit is True
    result = await harness.call(issue_refund, ctx, order_number="1005", line_item_ids=None, reason="x")
    assert isinstance(result, RefundIssued)
    assert result.amount == "480.00"
    assert ctx.approval_request is None
    amounts = sorted(Decimal(t["amount"]) for t in harness.refund_transactions(1005))
    assert amounts == [Decimal("80.00"), Decimal("400.00")]


async def test_a_zero_limit_sends_every_refund_for_approval(harness: Harness) -> None:
    ctx = harness.ctx(EMAILS["1002"], deps=harness.with_policy(refund_auto_approve_limit=Decimal(0)))
    result = await harness.call(issue_refund, ctx, order_number="1002", line_item_ids=None, reason="x")
    assert isinstance(result, RefundPendingApproval)
    assert harness.shopify_refunds(1002) == []


async def test_without_final_sale_tags_the_sunglasses_can_go_back(harness: Harness) -> None:
    ctx = harness.ctx(EMAILS["1006"], deps=harness.with_policy(final_sale_tags=()))
    result = await harness.call(check_return_eligibility, ctx, order_number="1006")
    assert isinstance(result, ReturnEligibility)
    assert [i.returnable for i in result.items] == [True, True]
    label = await harness.call(
        create_return_label, ctx, order_number="1006", line_item_ids=["520000100601"], reason="x"
    )
    assert isinstance(label, ReturnLabelCreated)
    assert label.items == ["1 × Polarized Sunglasses - Tortoise"]
