"""The BigCommerce demo store: the same customers, orders and situations as the Shopify seed.

`build_world` expands a seed into Shopify records first (discounts, taxes, fulfilments, refunds,
EasyPost trackers, Stripe payments); this module restates each order as BigCommerce's V2 and V3
APIs would show it, so the eval scenarios (#1001-#1009 and the others) hold on either platform:

- the order's id is the Shopify order number (BigCommerce's order number is its id);
- order products with their unit price, `applied_discounts` and the tax on the discounted line;
  one shipping address per order carrying the shipping cost;
- fulfilments become V2 shipments (tracking number, `shipping_provider`) and the status Shipped;
  BigCommerce does not learn of deliveries (EasyPost's trackers tell);
- refunds become V3 refunds (PRODUCT items by quantity, SHIPPING by amount) and the order's
  `refunded_amount`, products' `quantity_refunded` and status Refunded;
- how each order was paid (a card through a gateway, PayPal, a gift certificate, or a manual
  payment made through Stripe outside the store, whose payment intent is an order metafield)
  decides the refund methods the emulator's quotes offer.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from integrations.bigcommerce.models import (
    AWAITING_FULFILLMENT,
    AWAITING_PAYMENT,
    CANCELLED,
    PARTIALLY_REFUNDED,
    REFUNDED,
    SHIPPED,
    STATUS_NAMES,
    STRIPE_INTENT_KEY,
    rfc2822,
)
from integrations.shopify.models import ShopifyAddress, ShopifyOrder, split_tags
from sandbox.world import JSON, World

CENT = Decimal("0.01")
PROVIDER_SLUGS = {"USPS": "usps", "UPS": "ups", "FedEx": "fedex", "DHL": "dhl"}
# Shopify gateway -> (BigCommerce payment_method, refund provider id, description, offline provider)
GATEWAYS: dict[str, tuple[str, str, str, bool]] = {
    "shopify_payments": ("Credit Card", "braintree", "Braintree (Credit Card)", False),
    "paypal": ("PayPal", "paypalcommerce", "PayPal", False),
    "gift_card": ("Gift Certificate", "giftcertificate", "Gift Certificate", False),
    "stripe": ("Manual", "custom", "Manual payment (Stripe, outside the store)", True),
}


def money(value: Decimal) -> str:
    """V2's money: four decimals, as a string."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP).quantize(Decimal("0.0001")))


def v2_date(moment: datetime | None) -> str:
    return rfc2822(moment) if moment is not None else ""


def bc_address(address: ShopifyAddress | None, *, email: str = "") -> JSON:
    a = address or ShopifyAddress()
    return {
        "first_name": a.first_name or "",
        "last_name": a.last_name or "",
        "company": "",
        "street_1": a.address1 or "",
        "street_2": a.address2 or "",
        "city": a.city or "",
        "state": a.province_code or "",
        "zip": a.zip or "",
        "country": "United States" if (a.country_code or "US") == "US" else (a.country_code or ""),
        "country_iso2": a.country_code or "",
        "phone": a.phone or "",
        "email": email,
    }


def _status(order: ShopifyOrder) -> int:
    if order.cancelled_at is not None:
        return CANCELLED
    if order.financial_status == "refunded":
        return REFUNDED
    if order.financial_status == "partially_refunded":
        return PARTIALLY_REFUNDED
    if order.financial_status in ("pending", "authorized"):
        return AWAITING_PAYMENT
    if order.fulfillment_status == "fulfilled":
        return SHIPPED
    return AWAITING_FULFILLMENT


def bigcommerce_order(record: JSON, transactions: list[JSON]) -> JSON:
    """Every BigCommerce record of one order, from a Shopify order record and its transactions:
    `{"order", "products", "addresses", "shipments", "refunds", "metafields", "payments"}`."""
    order = ShopifyOrder.model_validate(record)
    oid = order.order_number
    email = order.email or ""
    products: list[JSON] = []
    refunded_units: dict[int, int] = {}
    refunded_money: dict[int, Decimal] = {}
    for refund in order.refunds:
        for line in refund.refund_line_items:
            refunded_units[line.line_item_id] = refunded_units.get(line.line_item_id, 0) + line.quantity
            refunded_money[line.line_item_id] = (
                refunded_money.get(line.line_item_id, Decimal(0))
                + (line.subtotal or Decimal(0))
                + (line.total_tax or Decimal(0))
            )
    address_id = oid * 10 + 1
    shipped = order.fulfillment_status == "fulfilled"
    for item in order.line_items:
        line_total = item.price * item.quantity
        products.append(
            {
                "id": item.id,
                "order_id": oid,
                "product_id": item.product_id or 0,
                "variant_id": item.variant_id or 0,
                "order_address_id": address_id,
                "name": item.name or item.title,
                "sku": item.sku or "",
                "type": "physical",
                "base_price": money(item.price),
                "price_ex_tax": money(item.price),
                "price_inc_tax": money(item.price + (item.tax / item.quantity if item.quantity else 0)),
                "price_tax": money(item.tax / item.quantity if item.quantity else Decimal(0)),
                "base_total": money(line_total),
                "total_ex_tax": money(line_total),
                "total_inc_tax": money(line_total + item.tax),
                "total_tax": money(item.tax),
                "quantity": item.quantity,
                "quantity_shipped": item.quantity if shipped else 0,
                "quantity_refunded": refunded_units.get(item.id, 0),
                "refund_amount": money(refunded_money.get(item.id, Decimal(0))),
                "is_refunded": refunded_units.get(item.id, 0) >= item.quantity,
                "applied_discounts": [
                    {"id": "total_discount", "amount": money(item.discount), "name": "Discount", "code": None}
                ]
                if item.discount
                else [],
            }
        )
    shipping = sum((s.charged for s in order.shipping_lines), Decimal(0))
    shipping_tax = sum((s.tax for s in order.shipping_lines), Decimal(0))
    items_total = sum(i.quantity for i in order.line_items)
    address = {
        "id": address_id,
        "order_id": oid,
        **bc_address(order.shipping_address, email=email),
        "items_total": items_total,
        "items_shipped": items_total if shipped else 0,
        "shipping_method": (order.shipping_lines[0].title if order.shipping_lines else None) or "Standard",
        "base_cost": money(shipping),
        "cost_ex_tax": money(shipping),
        "cost_inc_tax": money(shipping + shipping_tax),
        "cost_tax": money(shipping_tax),
    }
    shipments = [
        {
            "id": oid * 100 + index,
            "order_id": oid,
            "customer_id": order.customer.id if order.customer else 0,
            "order_address_id": address_id,
            "date_created": v2_date(f.created_at),
            "tracking_number": f.tracking_number,
            "shipping_method": "Ground",
            "shipping_provider": PROVIDER_SLUGS.get(f.tracking_company or "", ""),
            "tracking_carrier": ""
            if f.tracking_company in PROVIDER_SLUGS
            else (f.tracking_company or "").lower(),
            "tracking_link": f.tracking_url or "",
            "generated_tracking_link": "",
            "comments": "",
            "items": [
                {"order_product_id": li.id, "product_id": li.product_id or 0, "quantity": li.quantity}
                for li in order.line_items
            ],
        }
        for index, f in enumerate(order.fulfillments, start=1)
        if f.tracking_number and f.status not in ("cancelled", "error", "failure")
    ]
    payments: list[JSON] = []
    for transaction in transactions:
        if transaction.get("kind") not in ("sale", "capture") or transaction.get("status") != "success":
            continue
        method, provider, description, offline = GATEWAYS.get(
            str(transaction.get("gateway")), ("Credit Card", "braintree", "Braintree (Credit Card)", False)
        )
        payments.append(
            {
                "provider_id": provider,
                "provider_description": description,
                "payment_method": method,
                "amount": str(Decimal(transaction["amount"])),
                "offline_provider": offline,
            }
        )
    main = payments[-1] if payments else {"payment_method": "Credit Card", "provider_id": "braintree"}
    refunds: list[JSON] = []
    for position, refund in enumerate(order.refunds, start=1):
        items: list[JSON] = [
            {"item_type": "PRODUCT", "item_id": line.line_item_id, "quantity": line.quantity, "requested_amount": None,
             "reason": refund.note or ""}
            for line in refund.refund_line_items
        ]  # fmt: skip
        shipping_back = -sum((adj.amount for adj in refund.order_adjustments), Decimal(0))
        if shipping_back > 0:
            items.append(
                {"item_type": "SHIPPING", "item_id": address_id, "quantity": None,
                 "requested_amount": float(shipping_back), "reason": refund.note or ""}
            )  # fmt: skip
        refunds.append(
            {
                "id": oid * 100 + position,
                "order_id": oid,
                "user_id": 0,
                "created": refund.created_at.isoformat() if refund.created_at else None,
                "reason": refund.note or "",
                "total_amount": float(refund.amount),
                "total_tax": float(sum((line.total_tax or Decimal(0) for line in refund.refund_line_items), Decimal(0))),
                "uses_merchant_override_values": False,
                "items": items,
                "payments": [
                    {"id": oid * 100 + position, "provider_id": main["provider_id"], "amount": float(refund.amount),
                     "offline": bool(main.get("offline_provider")), "is_declined": False, "declined_message": ""}
                ],
            }
        )  # fmt: skip
    refunded = sum((r.amount for r in order.refunds), Decimal(0))
    intent = order.note_attribute("stripe_payment_intent")
    metafields = (
        [
            {
                "id": oid * 10 + 2,
                "namespace": "payments",
                "key": STRIPE_INTENT_KEY,
                "value": intent,
                "permission_set": "app_only",
                "resource_type": "order",
                "resource_id": oid,
            }
        ]
        if intent
        else []
    )
    status = _status(order)
    gift = sum(
        (Decimal(str(p["amount"])) for p in payments if p["provider_id"] == "giftcertificate"), Decimal(0)
    )
    tax = order.total_tax or Decimal(0)
    total = order.total_price
    discount = sum((i.discount for i in order.line_items), Decimal(0))
    subtotal = sum((i.price * i.quantity for i in order.line_items), Decimal(0))
    customer = order.customer.id if order.customer else 0
    bc: JSON = {
        "id": oid,
        "customer_id": customer,
        "date_created": v2_date(order.created_at),
        "date_modified": v2_date(order.cancelled_at or order.updated_at or order.created_at),
        "date_shipped": v2_date(order.fulfillments[0].created_at) if shipments else "",
        "status_id": status,
        "status": STATUS_NAMES[status],
        "custom_status": STATUS_NAMES[status],
        "subtotal_ex_tax": money(subtotal),
        "subtotal_inc_tax": money(subtotal + tax - shipping_tax),
        "subtotal_tax": money(tax - shipping_tax),
        "base_shipping_cost": money(shipping),
        "shipping_cost_ex_tax": money(shipping),
        "shipping_cost_inc_tax": money(shipping + shipping_tax),
        "shipping_cost_tax": money(shipping_tax),
        "handling_cost_ex_tax": money(Decimal(0)),
        "handling_cost_inc_tax": money(Decimal(0)),
        "total_ex_tax": money(total - tax),
        "total_inc_tax": money(total),
        "total_tax": money(tax),
        "items_total": items_total,
        "items_shipped": items_total if shipped else 0,
        "payment_method": main["payment_method"],
        "payment_provider_id": intent or "",
        "payment_status": "refunded"
        if status == REFUNDED
        else ("" if status == AWAITING_PAYMENT else "captured"),
        "refunded_amount": money(refunded),
        "order_is_digital": False,
        "store_credit_amount": money(Decimal(0)),
        "gift_certificate_amount": money(gift),
        "currency_code": order.currency,
        "default_currency_code": order.currency,
        "discount_amount": money(discount),
        "coupon_discount": money(Decimal(0)),
        "staff_notes": order.note or "",
        "customer_message": "",
        "is_deleted": False,
        "order_source": "www",
        "billing_address": bc_address(order.billing_address or order.shipping_address, email=email),
        "products": {"url": f"/v2/orders/{oid}/products", "resource": f"/orders/{oid}/products"},
        "shipping_addresses": {
            "url": f"/v2/orders/{oid}/shipping_addresses",
            "resource": f"/orders/{oid}/shipping_addresses",
        },
        "coupons": {"url": f"/v2/orders/{oid}/coupons", "resource": f"/orders/{oid}/coupons"},
    }
    return {
        "order": bc,
        "products": products,
        "addresses": [address],
        "shipments": shipments,
        "refunds": refunds,
        "metafields": metafields,
        "payments": payments,
    }


def bigcommerce_product(record: JSON) -> JSON:
    """A V3 catalog product; the Shopify tags become a custom field `tags` (BigCommerce has no tags)."""
    variant = (record.get("variants") or [{}])[0]
    tags = split_tags(record.get("tags"))
    return {
        "id": record["id"],
        "name": record["title"],
        "type": "physical",
        "sku": variant.get("sku", ""),
        "price": float(variant.get("price", "0")),
        "weight": float(variant.get("grams", 0)) / 453.6,
        "custom_fields": [{"id": record["id"] * 10 + 1, "name": "tags", "value": ", ".join(tags)}]
        if tags
        else [],
    }


def seed_bigcommerce(world: World) -> None:
    """Fill the BigCommerce store from the Shopify records `build_world` made."""
    state = world.bigcommerce
    for part in (
        state.orders,
        state.order_products,
        state.shipping_addresses,
        state.shipments,
        state.refunds,
        state.metafields,
        state.payments,
    ):
        part.clear()
    state.products = {pid: bigcommerce_product(p) for pid, p in world.shopify.products.items()}
    for record in world.shopify.orders.values():
        restated = bigcommerce_order(record, world.shopify.transactions.get(record["id"], []))
        oid = restated["order"]["id"]
        state.orders[oid] = restated["order"]
        state.order_products[oid] = restated["products"]
        state.shipping_addresses[oid] = restated["addresses"]
        state.shipments[oid] = restated["shipments"]
        state.refunds[oid] = restated["refunds"]
        state.metafields[oid] = restated["metafields"]
        state.payments[oid] = restated["payments"]
