"""WooCommerce REST API v3 payloads as WooCommerce publishes them, reduced.

Source: woocommerce/woocommerce-rest-api-docs @ 13d6196 (the official API reference),
`source/includes/wp-api-v3/`: `_orders.md` (the "Create an order" JSON response example, order
727), `_order-refunds.md` (the refund 726 response example), `_order-notes.md` (note 281),
`_introduction.md` (the two error examples, pagination headers) and `_webhooks.md` (delivery
headers). Kept: the fields the client and adapter read; `_links`, the customer's IP and user
agent, the order key and cart hash are dropped. The Shipment Tracking meta is NOT from the
REST reference (which does not show extensions): it is one item added by us to order 727's meta,
with the fields the Shipment Tracking extension stores in `_wc_shipment_tracking_items`
(`tracking_provider`, `custom_tracking_provider`, `custom_tracking_link`, `tracking_number`,
`date_shipped` as a Unix time string, `tracking_id`).
"""

from __future__ import annotations

from typing import Any

ORDER: dict[str, Any] = {
    "id": 727,
    "parent_id": 0,
    "number": "727",
    "created_via": "rest-api",
    "version": "3.0.0",
    "status": "processing",
    "currency": "USD",
    "date_created": "2017-03-22T16:28:02",
    "date_created_gmt": "2017-03-22T19:28:02",
    "date_modified": "2017-03-22T16:28:08",
    "date_modified_gmt": "2017-03-22T19:28:08",
    "discount_total": "0.00",
    "discount_tax": "0.00",
    "shipping_total": "10.00",
    "shipping_tax": "0.00",
    "cart_tax": "1.35",
    "total": "29.35",
    "total_tax": "1.35",
    "prices_include_tax": False,
    "customer_id": 0,
    "customer_note": "",
    "billing": {
        "first_name": "John",
        "last_name": "Doe",
        "company": "",
        "address_1": "969 Market",
        "address_2": "",
        "city": "San Francisco",
        "state": "CA",
        "postcode": "94103",
        "country": "US",
        "email": "john.doe@example.com",
        "phone": "(555) 555-5555",
    },
    "shipping": {
        "first_name": "John",
        "last_name": "Doe",
        "company": "",
        "address_1": "969 Market",
        "address_2": "",
        "city": "San Francisco",
        "state": "CA",
        "postcode": "94103",
        "country": "US",
    },
    "payment_method": "bacs",
    "payment_method_title": "Direct Bank Transfer",
    "transaction_id": "",
    "date_paid": "2017-03-22T16:28:08",
    "date_paid_gmt": "2017-03-22T19:28:08",
    "date_completed": None,
    "date_completed_gmt": None,
    "meta_data": [
        {"id": 13106, "key": "_download_permissions_granted", "value": "yes"},
        # Added by us: the Shipment Tracking extension's meta (see the module docstring).
        {
            "id": 13107,
            "key": "_wc_shipment_tracking_items",
            "value": [
                {
                    "tracking_provider": "usps",
                    "custom_tracking_provider": "",
                    "custom_tracking_link": "",
                    "tracking_number": "9400111899223100000000",
                    "date_shipped": "1490227200",
                    "tracking_id": "b1f3a5c7d9e1f3a5c7d9e1f3a5c7d9e1",
                }
            ],
        },
    ],
    "line_items": [
        {
            "id": 315,
            "name": "Woo Single #1",
            "product_id": 93,
            "variation_id": 0,
            "quantity": 2,
            "tax_class": "",
            "subtotal": "6.00",
            "subtotal_tax": "0.45",
            "total": "6.00",
            "total_tax": "0.45",
            "taxes": [{"id": 75, "total": "0.45", "subtotal": "0.45"}],
            "meta_data": [],
            "sku": "",
            "price": 3,
        },
        {
            "id": 316,
            "name": "Ship Your Idea &ndash; Color: Black, Size: M Test",
            "product_id": 22,
            "variation_id": 23,
            "quantity": 1,
            "tax_class": "",
            "subtotal": "12.00",
            "subtotal_tax": "0.90",
            "total": "12.00",
            "total_tax": "0.90",
            "taxes": [{"id": 75, "total": "0.9", "subtotal": "0.9"}],
            "meta_data": [
                {"id": 2095, "key": "pa_color", "value": "black"},
                {"id": 2096, "key": "size", "value": "M Test"},
            ],
            "sku": "Bar3",
            "price": 12,
        },
    ],
    "tax_lines": [
        {
            "id": 318,
            "rate_code": "US-CA-STATE TAX",
            "rate_id": 75,
            "label": "State Tax",
            "compound": False,
            "tax_total": "1.35",
            "shipping_tax_total": "0.00",
            "meta_data": [],
        }
    ],
    "shipping_lines": [
        {
            "id": 317,
            "method_title": "Flat Rate",
            "method_id": "flat_rate",
            "total": "10.00",
            "total_tax": "0.00",
            "taxes": [],
            "meta_data": [],
        }
    ],
    "fee_lines": [],
    "coupon_lines": [],
    "refunds": [],
}

REFUND: dict[str, Any] = {
    "id": 726,
    "date_created": "2017-03-21T17:07:11",
    "date_created_gmt": "2017-03-21T20:07:11",
    "amount": "10.00",
    "reason": "",
    "refunded_by": 1,
    "refunded_payment": False,
    "meta_data": [],
    "line_items": [],
}

NOTE: dict[str, Any] = {
    "id": 281,
    "author": "system",
    "date_created": "2017-03-21T16:46:41",
    "date_created_gmt": "2017-03-21T19:46:41",
    "note": "Order ok!!!",
    "customer_note": False,
}

WP_ERROR: dict[str, Any] = {
    "code": "rest_no_route",
    "message": "No route was found matching the URL and request method",
    "data": {"status": 404},
}

WC_ERROR: dict[str, Any] = {
    "code": "woocommerce_rest_term_invalid",
    "message": "Resource doesn't exist.",
    "data": {"status": 404},
}

WEBHOOK_HEADERS = (
    "X-WC-Webhook-Source",
    "X-WC-Webhook-Topic",
    "X-WC-Webhook-Resource",
    "X-WC-Webhook-Event",
    "X-WC-Webhook-Signature",
    "X-WC-Webhook-ID",
    "X-WC-Webhook-Delivery-ID",
)
