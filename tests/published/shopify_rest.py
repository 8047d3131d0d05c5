"""Shopify's REST Admin API 2024-10 as Shopify's own generated client tests publish it, reduced.

The agent no longer speaks REST; these are kept as Shopify's own records of an order, a refund
calculation and a scope list: the emulated store keeps its orders in this resource shape (the
shape webhooks deliver), and the GraphQL emulator must derive Shopify's published numbers from it.

Source: Shopify/shopify-api-ruby @ 4eca719d (MIT), `test/rest/2024_10/order_test.rb` (test_8:
GET orders/450789469.json; test_13: POST orders/450789469/cancel.json), `refund_test.rb` (POST
refunds/calculate.json with line 518995019 and shipping) and `access_scope_test.rb`. Kept: the
fields the client, the adapter and the refund arithmetic read; the `*_set` money twins, client
details, addresses and fulfilments are dropped.

The order carries Shopify's documented discount shape: each line keeps `total_discount: "0.00"`
while the TENOFF code's 10.00 sits in `discount_allocations` (3.34 + 3.33 + 3.33), with the
order-level `discount_applications` they index.
"""

from __future__ import annotations

from typing import Any

ORDER: dict[str, Any] = {
    "id": 450789469,
    "name": "#1001",
    "order_number": 1001,
    "number": 1,
    "email": "bob.norman@mail.example.com",
    "created_at": "2008-01-10T11:00:00-05:00",
    "processed_at": "2008-01-10T11:00:00-05:00",
    "updated_at": "2008-01-10T11:00:00-05:00",
    "currency": "USD",
    "financial_status": "partially_refunded",
    "fulfillment_status": None,
    "cancelled_at": None,
    "cancel_reason": None,
    "closed_at": None,
    "taxes_included": False,
    "total_price": "598.94",
    "subtotal_price": "597.00",
    "total_line_items_price": "597.00",
    "total_tax": "11.94",
    "total_discounts": "10.00",
    "current_total_price": "199.65",
    "current_subtotal_price": "195.67",
    "current_total_tax": "3.98",
    "current_total_discounts": "3.33",
    "discount_codes": [{"code": "TENOFF", "amount": "10.00", "type": "fixed_amount"}],
    "discount_applications": [
        {
            "target_type": "line_item",
            "type": "discount_code",
            "value": "10.0",
            "value_type": "fixed_amount",
            "allocation_method": "across",
            "target_selection": "all",
            "code": "TENOFF",
        }
    ],
    "payment_gateway_names": ["bogus"],
    "tax_lines": [{"price": "11.94", "rate": 0.06, "title": "State Tax"}],
    "line_items": [
        {
            "id": 466157049,
            "name": "IPod Nano - 8gb - green",
            "title": "IPod Nano - 8gb",
            "variant_title": "green",
            "sku": "IPOD2008GREEN",
            "product_id": 632910392,
            "variant_id": 39072856,
            "quantity": 1,
            "current_quantity": 0,
            "fulfillable_quantity": 0,
            "fulfillment_status": None,
            "price": "199.00",
            "total_discount": "0.00",
            "requires_shipping": True,
            "taxable": True,
            "gift_card": False,
            "tax_lines": [{"price": "3.98", "rate": 0.06, "title": "State Tax"}],
            "discount_allocations": [{"amount": "3.34", "discount_application_index": 0}],
        },
        {
            "id": 518995019,
            "name": "IPod Nano - 8gb - red",
            "title": "IPod Nano - 8gb",
            "variant_title": "red",
            "sku": "IPOD2008RED",
            "product_id": 632910392,
            "variant_id": 49148385,
            "quantity": 1,
            "current_quantity": 1,
            "fulfillable_quantity": 1,
            "fulfillment_status": None,
            "price": "199.00",
            "total_discount": "0.00",
            "requires_shipping": True,
            "taxable": True,
            "gift_card": False,
            "tax_lines": [{"price": "3.98", "rate": 0.06, "title": "State Tax"}],
            "discount_allocations": [{"amount": "3.33", "discount_application_index": 0}],
        },
        {
            "id": 703073504,
            "name": "IPod Nano - 8gb - black",
            "title": "IPod Nano - 8gb",
            "variant_title": "black",
            "sku": "IPOD2008BLACK",
            "product_id": 632910392,
            "variant_id": 457924702,
            "quantity": 1,
            "current_quantity": 0,
            "fulfillable_quantity": 0,
            "fulfillment_status": None,
            "price": "199.00",
            "total_discount": "0.00",
            "requires_shipping": True,
            "taxable": True,
            "gift_card": False,
            "tax_lines": [{"price": "3.98", "rate": 0.06, "title": "State Tax"}],
            "discount_allocations": [{"amount": "3.33", "discount_application_index": 0}],
        },
    ],
    "shipping_lines": [
        {
            "id": 369256396,
            "title": "Free Shipping",
            "code": "Free Shipping",
            "price": "0.00",
            "discounted_price": "0.00",
            "tax_lines": [],
            "discount_allocations": [],
        }
    ],
    "refunds": [
        {
            "id": 509562969,
            "order_id": 450789469,
            "created_at": "2024-10-02T08:59:11-05:00",
            "note": "it broke during shipping",
            "restock": True,
            "refund_line_items": [
                {
                    "id": 104689539,
                    "line_item_id": 703073504,
                    "quantity": 1,
                    "restock_type": "legacy_restock",
                    "subtotal": 195.66,
                    "total_tax": 3.98,
                },
                {
                    "id": 709875399,
                    "line_item_id": 466157049,
                    "quantity": 1,
                    "restock_type": "legacy_restock",
                    "subtotal": 195.67,
                    "total_tax": 3.98,
                },
            ],
            "transactions": [
                {
                    "id": 179259969,
                    "order_id": 450789469,
                    "kind": "refund",
                    "gateway": "bogus",
                    "status": "success",
                    "amount": "209.00",
                    "currency": "USD",
                    "parent_id": 801038806,
                }
            ],
            "order_adjustments": [],
        }
    ],
    "customer": {
        "id": 207119551,
        "email": "bob.norman@mail.example.com",
        "first_name": "Bob",
        "last_name": "Norman",
    },
    "note": None,
    "note_attributes": [
        {"name": "custom engraving", "value": "Happy Birthday"},
        {"name": "colour", "value": "green"},
    ],
    "tags": "",
}

# The cancel response: the notice, and the order exactly as test_8 serves it (`cancelled_at` null:
# the cancellation completes in the background).

REFUND_CALCULATION: dict[str, Any] = {
    "refund": {
        "shipping": {"amount": "5.00", "tax": "0.00", "maximum_refundable": "5.00"},
        "duties": [],
        "additional_fees": [],
        "return": None,
        "refund_line_items": [
            {
                "quantity": 1,
                "line_item_id": 518995019,
                "location_id": None,
                "restock_type": "no_restock",
                "price": "199.00",
                "subtotal": "195.67",
                "total_tax": "3.98",
                "discounted_price": "199.00",
                "discounted_total_price": "199.00",
                "total_cart_discount_amount": "3.33",
            }
        ],
        "transactions": [
            {
                "order_id": 450789469,
                "kind": "suggested_refund",
                "gateway": "bogus",
                "parent_id": 801038806,
                "amount": "41.94",
                "currency": "USD",
                "maximum_refundable": "41.94",
            }
        ],
        "currency": "USD",
    }
}

ACCESS_SCOPES: dict[str, Any] = {
    "access_scopes": [{"handle": "read_products"}, {"handle": "write_orders"}, {"handle": "read_orders"}]
}
