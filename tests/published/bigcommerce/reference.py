"""BigCommerce API payloads as BigCommerce publishes them in its API reference, reduced.

Source: bigcommerce/docs @ 24f580c (the official developer documentation's OpenAPI files):
- `reference/orders.v2.oas2.yml`: the `order_Resp` example (order 218), `orderProductsCollection_Resp`
  (product 65 of order 149), `orderShippingAddressCollection_Resp` (address 132 of order 229),
  `orderShipmentCollection_Resp` (shipment 6 of order 225) and the 404 error example (a list);
- `reference/orders.v3.yml`: the `RefundQuote_Full` description's `refund_methods` (store credit,
  custom, bank deposit + store credit), the `RefundID_Get` example (refund 12 of order 180), the
  "Create a Refund" request examples and its 422 (store credit for a guest) and `422_UnprocessableEntity`;
- `reference/webhooks.v3.yml` and the webhook events reference: a hook's fields and the callback
  payloads of `store/order/statusUpdated`, `store/order/refund/created` and `store/shipment/created`.

Kept: the fields the client and adapter read, and a few around them; long lists (product options,
fees, form fields, wrapping and handling costs) are dropped. The refund quote's `order_id` and
totals around the published `refund_methods` are ours (the reference shows the methods alone).
"""

from __future__ import annotations

from typing import Any

ORDER: dict[str, Any] = {
    "id": 218,
    "customer_id": 11,
    "date_created": "Tue, 05 Mar 2019 21:40:11 +0000",
    "date_modified": "Mon, 11 Mar 2019 15:17:25 +0000",
    "date_shipped": "",
    "status_id": 7,
    "status": "Awaiting Payment",
    "subtotal_ex_tax": "62.6793",
    "subtotal_inc_tax": "67.8400",
    "subtotal_tax": "4.4000",
    "base_shipping_cost": "12.0000",
    "shipping_cost_ex_tax": "11.0900",
    "shipping_cost_inc_tax": "12.0000",
    "shipping_cost_tax": "0.9100",
    "total_ex_tax": "64.5300",
    "total_inc_tax": "69.8400",
    "total_tax": "5.3100",
    "is_tax_inclusive_pricing": False,
    "items_total": 4,
    "items_shipped": 0,
    "payment_method": "Cash",
    "payment_provider_id": "",
    "payment_status": "authorized",
    "refunded_amount": "0.0000",
    "order_is_digital": False,
    "store_credit_amount": "0.0000",
    "gift_certificate_amount": "0.0000",
    "currency_id": 1,
    "currency_code": "USD",
    "staff_notes": "",
    "customer_message": "",
    "discount_amount": "5.0000",
    "coupon_discount": "5.0000",
    "shipping_address_count": 1,
    "billing_address": {
        "first_name": "Jane",
        "last_name": "Doe",
        "company": "",
        "street_1": "555 East Street",
        "street_2": "",
        "city": "Austin",
        "state": "Texas",
        "zip": "78108",
        "country": "United States",
        "country_iso2": "US",
        "phone": "1234567890",
        "email": "janedoe@example.com",
    },
    "order_source": "external",
    "products": {
        "url": "https://api.bigcommerce.com/stores/{store_hash}/v2/orders/218/products",
        "resource": "/orders/218/products",
    },
    "shipping_addresses": {
        "url": "https://api.bigcommerce.com/stores/{store_hash}/v2/orders/218/shippingaddresses",
        "resource": "/orders/218/shippingaddresses",
    },
    "custom_status": "Awaiting Payment",
}

ORDER_PRODUCT: dict[str, Any] = {
    "id": 65,
    "order_id": 149,
    "product_id": 77,
    "order_address_id": 51,
    "name": "Fog Linen Chambray Towel - Beige Stripe",
    "sku": "S-ORAN",
    "type": "physical",
    "base_price": "55.9900",
    "price_ex_tax": "55.9900",
    "price_inc_tax": "65.2300",
    "price_tax": "9.2400",
    "base_total": "55.9900",
    "total_ex_tax": "55.9900",
    "total_inc_tax": "65.2300",
    "total_tax": "9.2400",
    "quantity": 1,
    "is_refunded": False,
    "quantity_refunded": 0,
    "refund_amount": "0.0000",
    "quantity_shipped": 0,
    "applied_discounts": [
        {
            "id": "manual-discount",
            "amount": "1.5900",
            "name": "Manual Discount",
            "code": None,
            "target": "order",
        }
    ],
}

SHIPPING_ADDRESS: dict[str, Any] = {
    "id": 132,
    "order_id": 229,
    "first_name": "Trishy",
    "last_name": "Smith",
    "company": "Acme Pty Ltd",
    "street_1": "666 Sussex St",
    "street_2": "",
    "city": "San Antonio",
    "zip": "78251",
    "country": "United States",
    "country_iso2": "US",
    "state": "Texas",
    "email": "janedoe@example.com",
    "phone": "",
    "items_total": 2,
    "items_shipped": 2,
    "shipping_method": "None",
    "base_cost": "12.9900",
    "cost_ex_tax": "12.0000",
    "cost_inc_tax": "12.9900",
    "cost_tax": "0.9900",
}

SHIPMENT: dict[str, Any] = {
    "id": 6,
    "order_id": 225,
    "customer_id": 11,
    "order_address_id": 127,
    "date_created": "Mon, 11 Mar 2019 17:22:08 +0000",
    "tracking_number": "EJ958083578US",
    "merchant_shipping_cost": "0.0000",
    "shipping_method": "None",
    "comments": "Ready to go...",
    "shipping_provider": "usps",
    "tracking_carrier": "",
    "tracking_link": "",
    "items": [{"order_product_id": 188, "product_id": 0, "quantity": 1}],
    "shipping_provider_display_name": "USPS",
    "generated_tracking_link": "https://trkcnfrm1.smi.usps.com/PTSInternetWeb/InterLabelInquiry.do?strOrigTrackNum=EJ958083578US",
}

V2_NOT_FOUND: list[dict[str, Any]] = [{"status": 404, "message": "The requested resource was not found."}]

REFUND_METHODS: list[list[dict[str, Any]]] = [
    [
        {
            "provider_id": "storecredit",
            "provider_description": "Store Credit",
            "amount": 119.35,
            "offline": False,
            "offline_provider": False,
            "offline_reason": "",
        }
    ],
    [
        {
            "provider_id": "custom",
            "provider_description": "Custom",
            "amount": 119.35,
            "offline": True,
            "offline_provider": True,
            "offline_reason": "This is an offline payment provider.",
        }
    ],
    [
        {
            "provider_id": "bankdeposit",
            "provider_description": "Bank Deposit",
            "amount": 80.35,
            "offline": True,
            "offline_provider": True,
            "offline_reason": "This is an offline payment provider.",
        },
        {
            "provider_id": "storecredit",
            "provider_description": "Store Credit",
            "amount": 39,
            "offline": False,
            "offline_provider": False,
            "offline_reason": "",
        },
    ],
]

REFUND_QUOTE: dict[str, Any] = {
    "data": {
        "order_id": 180,
        "total_refund_amount": 119.35,
        "total_refund_tax_amount": 1.95,
        "rounding": 0,
        "adjustment": 0,
        "tax_inclusive": False,
        "refund_methods": REFUND_METHODS,
    },
    "meta": {},
}

REFUND: dict[str, Any] = {
    "data": {
        "id": 12,
        "order_id": 180,
        "user_id": 0,
        "created": "2022-06-16T16:44:15+00:00",
        "reason": "Customer requires a refund.",
        "total_amount": 50,
        "total_tax": 5,
        "uses_merchant_override_values": False,
        "payments": [
            {
                "id": 13,
                "provider_id": "storecredit",
                "amount": 50,
                "offline": True,
                "is_declined": False,
                "declined_message": "",
            }
        ],
        "items": [{"item_type": "PRODUCT", "item_id": 87, "quantity": 1, "requested_amount": None}],
    },
    "meta": {},
}

# "Create a Refund", request example "Multiple Items" (a product by quantity, shipping by amount).
REFUND_REQUEST_ITEMS: list[dict[str, Any]] = [
    {"item_id": 75, "item_type": "PRODUCT", "quantity": 1},
    {"item_id": 79, "item_type": "SHIPPING", "amount": 10},
]

GUEST_STORE_CREDIT_422: dict[str, Any] = {
    "data": [
        {
            "status": 422,
            "title": "Unable to provide store credit for a guest customer.",
            "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
        }
    ]
}

V3_422: dict[str, Any] = {
    "status": 422,
    "title": "JSON data is missing or invalid",
    "type": "/api-docs/getting-started/api-status-codes",
    "errors": {"name": "error.expected.jsstring", "primary_contact.district": "error.expected.jsstring."},
}

HOOK: dict[str, Any] = {
    "id": 18048287,
    "client_id": "m9r6keqmo7h7f23btnpwernbez1kglkl",
    "store_hash": "sftg45fsd",
    "scope": "store/order/*",
    "destination": "https://myapp.herokuapp.com/webhooks",
    "headers": {"custom": "string"},
    "is_active": True,
    "created_at": 1561488106,
    "updated_at": 1561488106,
}

STATUS_UPDATED: dict[str, Any] = {
    "created_at": 1561482670,
    "store_id": "1025646",
    "producer": "stores/{store_hash}",
    "scope": "store/order/statusUpdated",
    "hash": "352e4afc6dd3fc85ea26bfdf3f91852604d57528",
    "data": {"type": "order", "id": 250, "status": {"previous_status_id": 1, "new_status_id": 11}},
}

REFUND_CREATED: dict[str, Any] = {
    "created_at": 1561482670,
    "store_id": "1025646",
    "producer": "stores/{store_hash}",
    "scope": "store/order/refund/created",
    "hash": "352e4afc6dd3fc85ea26bfdf3f91852604d57528",
    "data": {"type": "order", "id": 250, "refund": {"refund_id": 3}},
}

SHIPMENT_CREATED: dict[str, Any] = {
    "created_at": 1561482670,
    "store_id": "1025646",
    "producer": "stores/{store_hash}",
    "scope": "store/shipment/created",
    "hash": "352e4afc6dd3fc85ea26bfdf3f91852604d57528",
    "data": {"type": "shipment", "id": 12, "orderId": 251},
}

ORDER_UPDATED: dict[str, Any] = {
    "created_at": 1561482670,
    "store_id": "1025646",
    "producer": "stores/{store_hash}",
    "scope": "store/order/updated",
    "hash": "352e4afc6dd3fc85ea26bfdf3f91852604d57528",
    "data": {"type": "order", "id": 250},
}

RATE_LIMIT_HEADERS: dict[str, str] = {
    "X-Rate-Limit-Requests-Quota": "150",
    "X-Rate-Limit-Requests-Left": "35",
    "X-Rate-Limit-Time-Window-Ms": "30000",
    "X-Rate-Limit-Time-Reset-Ms": "15000",
}
