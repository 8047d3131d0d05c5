"""Reading a tool's answer back from the JSON the model was shown: typed results and refusals."""

from __future__ import annotations

import types
from datetime import UTC, datetime
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, ValidationError

from tools.langchain import result_text
from tools.orders import OrderDetails, OrderView, RecentOrders
from tools.refunds import RefundIssued, RefundPendingApproval
from tools.registry import spec_by_name, specs
from tools.results import Refusal, read_refusal, refuse
from tools.tracking import EventView, ParcelStatus, TrackingResult

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models inside an annotation (`list[X]`, `X | None` ...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models(arg)]


def _admits_none(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


def test_every_result_model_reads_back_from_json_without_its_none_fields() -> None:
    """`result_text` leaves `None` fields out, so each one needs a default to be read back."""
    seen: set[type[BaseModel]] = set()
    todo: list[type[BaseModel]] = [t for s in specs() for t in s.result_types]
    missing = []
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            if _admits_none(field.annotation) and field.is_required():
                missing.append(f"{model.__name__}.{name}")
            todo += _models(field.annotation)
    assert len(seen) > 15
    assert missing == []


def test_every_tool_declares_what_it_returns() -> None:
    assert all(s.result_types for s in specs())


def test_a_result_with_none_fields_round_trips() -> None:
    result = TrackingResult(
        order_number="1001",
        shipped=True,
        parcels=[
            ParcelStatus(
                tracking_number="1Z84F2A90312345678",
                status="in_transit",
                last_events=[EventView(at=NOW, status="in_transit", message="Departed")],
            )
        ],
    )
    text = result_text(result)
    assert "null" not in text
    spec = spec_by_name("get_tracking_status")
    assert spec is not None
    assert spec.parse_result(text) == result


def test_several_result_types_of_one_tool_are_told_apart() -> None:
    lookup, refund = spec_by_name("lookup_order"), spec_by_name("issue_refund")
    assert lookup is not None and refund is not None
    view = OrderView(
        order_number="1001",
        placed_at=NOW,
        status="shipped",
        currency="USD",
        total="10.00",
        refunded="0.00",
        items=[],
        shipments=[],
    )
    assert isinstance(lookup.parse_result(result_text(OrderDetails(order=view))), OrderDetails)
    assert isinstance(lookup.parse_result(result_text(RecentOrders(orders=[view]))), RecentOrders)
    pending = RefundPendingApproval(
        order_number="1005", amount="240.00", currency="USD", items=[], message="m"
    )
    issued = RefundIssued(
        order_number="1002", amount="5.00", currency="USD", refund_id="r1", processor="platform", items=[]
    )
    assert refund.parse_result(result_text(pending)) == pending
    assert refund.parse_result(result_text(issued)) == issued


def test_a_refusal_reads_as_a_refusal_for_any_tool() -> None:
    refusal = refuse("final_sale", "m", excluded=["Sunglasses: final sale"], order_number="1006")
    for spec in specs():
        parsed = spec.parse_result(result_text(refusal))
        assert parsed == refusal
    assert read_refusal(result_text(refusal)) == refusal


@pytest.mark.parametrize(
    "text",
    [
        "Internal Server Error",
        "[1, 2]",
        '{"ok": false, "code": "no_such_code", "message": "m"}',
        '{"ok": true, "orders": "not a list"}',
        '{"ok": true, "order_number": "1001", "shipped": true, "parcels": []}',  # tracking, not lookup
    ],
)
def test_anything_else_is_a_validation_error(text: str) -> None:
    spec = spec_by_name("lookup_order")
    assert spec is not None
    with pytest.raises(ValidationError):
        spec.parse_result(text)


@pytest.mark.parametrize("text", ["not json", "[]", '{"ok": true, "orders": []}', '{"ok": false}'])
def test_read_refusal_is_none_for_anything_but_a_refusal(text: str) -> None:
    assert read_refusal(text) is None


def test_a_refusal_is_never_read_as_a_half_empty_result() -> None:
    escalate = spec_by_name("escalate_to_human")
    assert escalate is not None
    parsed = escalate.parse_result('{"ok": false, "code": "declined_by_shopper", "message": "No."}')
    assert isinstance(parsed, Refusal)
    assert parsed.code == "declined_by_shopper"
