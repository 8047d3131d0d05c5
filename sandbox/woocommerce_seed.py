"""The WooCommerce demo store: the same customers, orders and situations as the Shopify seed.

`build_world` expands a seed into Shopify records first (discounts, taxes, fulfilments, refunds,
EasyPost trackers, Stripe payments); this module restates each order as WooCommerce's REST API
v3 would show it, so the eval scenarios (#1001-#1009) hold on either platform:

- the order's id and `number` are the Shopify order number (WooCommerce numbers orders by id);
- line totals after discounts, each line's tax in `taxes` (one rate), shipping lines;
- fulfilments become Shipment Tracking items in the `_wc_shipment_tracking_items` meta and the
  status `completed` (WooCommerce does not learn of deliveries: EasyPost's trackers tell);
- refunds become refund objects with negative line quantities and `_refunded_item_id` meta;
- an order paid through Stripe outside the store carries the payment intent in its meta.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from integrations.shopify.models import ShopifyAddress, ShopifyOrder, split_tags
from integrations.woocommerce.models import TRACKING_META_KEY
from sandbox.world import JSON, World

TAX_RATE_ID = 1
CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


GATEWAYS = {
    "shopify_payments": ("woocommerce_payments", "Credit card (WooPayments)"),
    "paypal": ("ppcp-gateway", "PayPal"),
    "stripe": ("stripe", "Stripe (paid outside the store)"),
}
PROVIDER_SLUGS = {"USPS": "usps", "UPS": "ups", "FedEx": "fedex", "DHL": "dhl"}


def wc_date(moment: datetime | None) -> str | None:
    """WooCommerce's date format: no offset (`*_gmt` fields are UTC; the demo site runs on UTC)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def wc_address(address: ShopifyAddress | None, *, email: str | None = None) -> JSON:
    a = address or ShopifyAddress()
    record: JSON = {
        "first_name": a.first_name or "",
        "last_name": a.last_name or "",
        "company": "",
        "address_1": a.address1 or "",
        "address_2": a.address2 or "",
        "city": a.city or "",
        "state": a.province_code or "",
        "postcode": a.zip or "",
        "country": a.country_code or "",
        "phone": a.phone or "",
    }
    if email is not None:
        record["email"] = email
    return record


def _status(order: ShopifyOrder) -> str:
    if order.cancelled_at is not None:
        return "cancelled"
    if order.financial_status == "refunded":
        return "refunded"
    if order.financial_status in ("pending", "authorized"):
        return "pending"
    if order.fulfillment_status == "fulfilled":
        return "completed"
    return "processing"


def woocommerce_order(record: JSON) -> tuple[JSON, list[JSON], list[JSON]]:
    """(the order, its refunds, its notes) as WooCommerce shows them, from a Shopify order record."""
    order = ShopifyOrder.model_validate(record)
    number = order.order_number
    created = wc_date(order.created_at)
    line_items = []
    for item in order.line_items:
        subtotal = item.price * item.quantity
        total = subtotal - item.discount
        line_items.append(
            {
                "id": item.id,
                "name": item.name or item.title,
                "product_id": item.product_id,
                "variation_id": item.variant_id or 0,
                "quantity": item.quantity,
                "tax_class": "",
                "subtotal": money(subtotal),
                "subtotal_tax": money(item.tax),
                "total": money(total),
                "total_tax": money(item.tax),
                "taxes": [{"id": TAX_RATE_ID, "total": money(item.tax), "subtotal": money(item.tax)}],
                "meta_data": [],
                "sku": item.sku or "",
                "price": float(total / item.quantity) if item.quantity else 0.0,
            }
        )
    shipping_lines = [
        {
            "id": raw["id"],
            "method_title": line.title or "Standard",
            "method_id": "flat_rate",
            "total": money(line.charged),
            "total_tax": money(line.tax),
            "taxes": [],
        }
        for line, raw in zip(order.shipping_lines, record.get("shipping_lines", []), strict=False)
    ]
    tracking = [
        {
            "tracking_provider": PROVIDER_SLUGS.get(f.tracking_company or "", ""),
            "custom_tracking_provider": ""
            if f.tracking_company in PROVIDER_SLUGS
            else (f.tracking_company or ""),
            "custom_tracking_link": f.tracking_url or "",
            "tracking_number": f.tracking_number,
            "date_shipped": str(int(f.created_at.timestamp())) if f.created_at else "",
            "tracking_id": f"{f.id:x}",
        }
        for f in order.fulfillments
        if f.tracking_number and f.status not in ("cancelled", "error", "failure")
    ]
    meta: list[JSON] = []
    if tracking:
        meta.append({"id": number * 10 + 1, "key": TRACKING_META_KEY, "value": tracking})
    intent = order.note_attribute("stripe_payment_intent")
    if intent:
        meta.append({"id": number * 10 + 2, "key": "stripe_payment_intent", "value": intent})
    gateway = (order.gateway or "shopify_payments").lower()
    method, title = GATEWAYS.get(gateway, (gateway, gateway.title()))
    refunds: list[JSON] = []
    for position, refund in enumerate(order.refunds, start=1):
        refund_id = number * 100 + position
        lines = [
            {
                "id": refund_id * 10 + index,
                "name": next(
                    (li.name or li.title for li in order.line_items if li.id == line.line_item_id), ""
                ),
                "quantity": -line.quantity,
                "total": money(-(line.subtotal or Decimal("0"))),
                "total_tax": money(-(line.total_tax or Decimal("0"))),
                "meta_data": [{"key": "_refunded_item_id", "value": str(line.line_item_id)}],
            }
            for index, line in enumerate(refund.refund_line_items, start=1)
        ]
        shipping_back = -sum((adj.amount for adj in refund.order_adjustments), Decimal("0"))
        refund_shipping = []
        if shipping_back > 0 and shipping_lines:
            refund_shipping.append(
                {
                    "id": refund_id * 10,
                    "method_title": shipping_lines[0]["method_title"],
                    "total": money(-shipping_back),
                    "total_tax": "0.00",
                    "meta_data": [{"key": "_refunded_item_id", "value": str(shipping_lines[0]["id"])}],
                }
            )
        refunds.append(
            {
                "id": refund_id,
                "date_created": wc_date(refund.created_at),
                "date_created_gmt": wc_date(refund.created_at),
                "amount": money(refund.amount),
                "reason": refund.note or "",
                "refunded_by": 1,
                "refunded_payment": True,
                "meta_data": [],
                "line_items": lines,
                "shipping_lines": refund_shipping,
            }
        )
    notes = []
    if order.note:
        notes.append(
            {
                "id": number * 100 + 99,
                "author": "system",
                "date_created": created,
                "date_created_gmt": created,
                "note": order.note,
                "customer_note": False,
            }
        )
    modified = wc_date(order.cancelled_at or order.updated_at or order.created_at)
    woo: JSON = {
        "id": number,
        "parent_id": 0,
        "number": str(number),
        "order_key": f"wc_order_{number:x}",
        "created_via": "checkout",
        "status": _status(order),
        "currency": order.currency,
        "date_created": created,
        "date_created_gmt": created,
        "date_modified": modified,
        "date_modified_gmt": modified,
        "discount_total": money(sum((i.discount for i in order.line_items), Decimal("0"))),
        "shipping_total": money(sum((s.charged for s in order.shipping_lines), Decimal("0"))),
        "shipping_tax": money(sum((s.tax for s in order.shipping_lines), Decimal("0"))),
        "cart_tax": money(order.total_tax or Decimal("0")),
        "total": money(order.total_price),
        "total_tax": money(order.total_tax or Decimal("0")),
        "prices_include_tax": False,
        "customer_id": order.customer.id if order.customer else 0,
        "customer_note": "",
        "billing": wc_address(order.billing_address or order.shipping_address, email=order.email or ""),
        "shipping": wc_address(order.shipping_address),
        "payment_method": method,
        "payment_method_title": title,
        "transaction_id": intent or "",
        "meta_data": meta,
        "line_items": line_items,
        "tax_lines": [],
        "shipping_lines": shipping_lines,
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [{"id": r["id"], "reason": r["reason"], "total": "-" + r["amount"]} for r in refunds],
    }
    return woo, refunds, notes


def woocommerce_product(record: JSON) -> JSON:
    variant = (record.get("variants") or [{}])[0]
    return {
        "id": record["id"],
        "name": record["title"],
        "slug": record.get("handle", ""),
        "sku": variant.get("sku", ""),
        "price": variant.get("price", "0"),
        "tags": [
            {"id": index, "name": tag, "slug": tag.lower().replace(" ", "-")}
            for index, tag in enumerate(split_tags(record.get("tags")), start=1)
        ],
    }


def seed_woocommerce(world: World) -> None:
    """Fill the WooCommerce store from the Shopify records `build_world` made."""
    state = world.woocommerce
    state.orders.clear()
    state.refunds.clear()
    state.notes.clear()
    state.products = {pid: woocommerce_product(p) for pid, p in world.shopify.products.items()}
    for record in world.shopify.orders.values():
        order, refunds, notes = woocommerce_order(record)
        state.orders[order["id"]] = order
        state.refunds[order["id"]] = refunds
        state.notes[order["id"]] = notes
