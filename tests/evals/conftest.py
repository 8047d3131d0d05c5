"""Small hand-built world snapshots for the scorer tests (the shape of `World.snapshot()`)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

JSON = dict[str, Any]


def order(number: int, **fields: Any) -> JSON:
    record: JSON = {
        "id": 5_200_000_000 + number,
        "order_number": number,
        "email": "ana@example.com",
        "cancelled_at": None,
        "cancel_reason": None,
        "note": None,
        "refunds": [],
        "shipping_address": {"name": "Ana Silva", "address1": "1 Old St", "city": "Austin", "zip": "78702"},
    }
    record.update(fields)
    return record


@pytest.fixture
def before() -> JSON:
    return {
        "shopify": {"orders": {"5200001001": order(1001), "5200001009": order(1009)}},
        "stripe": {
            "payment_intents": {"pi_1009": {"id": "pi_1009", "metadata": {"order_number": "1009"}}},
            "refunds": {},
        },
        "easypost": {"shipments": {}},
        "sendgrid": {"outbox": []},
        "gorgias": {"tickets": {}},
    }


@pytest.fixture
def after(before: JSON) -> JSON:
    return copy.deepcopy(before)
