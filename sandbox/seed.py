"""The world seed: a small, documented JSON description of a store, turned into vendor records.

A seed says things the way a person would ("delivered 6 days ago by USPS"); `build_world`
expands it into the records each vendor API would hold (Shopify orders with fulfillments,
transactions and refunds; EasyPost trackers with events; Stripe payment intents and charges;
Gorgias customers). Every date is relative to the seed's clock, so the demo store never ages.

The schema of a seed file is the `Seed` model below; `sandbox/seeds/README.md` documents it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from sandbox.bigcommerce_seed import seed_bigcommerce
from sandbox.front_records import teammate as front_teammate
from sandbox.pricing import add_tax_lines, apply_discounts, line_net, money_set
from sandbox.woocommerce_seed import seed_woocommerce
from sandbox.world import JSON, World

CENT = Decimal("0.01")

CARRIER_URLS = {
    "UPS": "https://www.ups.com/track?tracknum={code}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={code}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={code}",
    "DHL": "https://www.dhl.com/en/express/tracking.html?AWB={code}",
}


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


class SeedAddress(BaseModel):
    address1: str
    address2: str | None = None
    city: str
    province_code: str
    zip: str
    country_code: str = "US"


class SeedCustomer(BaseModel):
    first_name: str
    last_name: str
    email: str
    phone: str | None = None
    address: SeedAddress


class SeedProduct(BaseModel):
    sku: str
    title: str
    variant_title: str | None = None
    price: Decimal
    tags: list[str] = Field(default_factory=list, description="e.g. 'final-sale' makes it non-returnable.")
    grams: int = 500


class SeedItem(BaseModel):
    sku: str
    quantity: int = 1


class SeedEvent(BaseModel):
    days_ago: float
    status: str
    message: str
    city: str | None = None
    state: str | None = None
    status_detail: str | None = None


class SeedTracker(BaseModel):
    """EasyPost tracker state. Without `events`, a plausible history is generated."""

    status: Literal[
        "pre_transit", "in_transit", "out_for_delivery", "delivered", "return_to_sender", "failure", "unknown"
    ]
    status_detail: str | None = None
    est_delivery_in_days: float | None = None
    events: list[SeedEvent] = Field(default_factory=list)


class SeedFulfillment(BaseModel):
    days_ago: float = Field(description="When the parcel was handed to the carrier.")
    carrier: Literal["UPS", "USPS", "FedEx", "DHL"]
    service: str = "Ground"
    tracking_number: str
    delivered_days_ago: float | None = None
    tracker: SeedTracker | None = None


class SeedPayment(BaseModel):
    """How the shopper paid. `stripe` means a non-Shopify checkout through a Stripe payment intent."""

    gateway: Literal["shopify_payments", "stripe", "paypal"] = "shopify_payments"
    gift_card: Decimal | None = Field(None, description="Part paid by gift card (a second transaction).")
    payment_intent: str | None = None


class SeedDiscount(BaseModel):
    """A discount on the order, as the shopper got it at checkout (see `sandbox/pricing.py`)."""

    type: Literal["discount_code", "automatic", "manual"] = "discount_code"
    code: str | None = Field(None, description="The code the shopper typed (type discount_code).")
    title: str | None = Field(None, description="The name of an automatic or manual discount.")
    value: Decimal = Field(description="Percent off (value_type percentage) or an amount off.")
    value_type: Literal["percentage", "fixed_amount"] = "percentage"
    target: Literal["order", "items", "shipping"] = Field(
        "order", description="The whole order, some products (`skus`), or shipping."
    )
    skus: list[str] = Field(default_factory=list, description="target items: the products it applies to.")
    max_units: int | None = Field(
        None, description="target items: at most this many units of each line (a partly discounted line)."
    )


class SeedOrder(BaseModel):
    number: int
    email: str
    placed_days_ago: float
    items: list[SeedItem]
    shipping: Decimal = Decimal("0.00")
    tax_rate: Decimal = Decimal("0.00")
    discounts: list[SeedDiscount] = Field(default_factory=list)
    payment: SeedPayment = Field(default_factory=SeedPayment)
    fulfillment: SeedFulfillment | None = None
    refunded: Literal["full"] | None = None
    cancelled: bool = False
    note: str | None = None
    tags: list[str] = Field(default_factory=list)


class SeedShop(BaseModel):
    domain: str
    name: str
    currency: str = "USD"
    access_scopes: list[str] = Field(
        default_factory=lambda: ["read_orders", "write_orders", "read_products"],
        description="Scopes granted to the app's Admin API token. Without read_all_orders (Shopify grants "
        "it on request) the token sees only the orders created in the last 60 days.",
    )


class SeedAgent(BaseModel):
    name: str
    email: str


class SeedSender(BaseModel):
    """A SendGrid Sender Identity: mail from `email` is accepted only once it is verified."""

    email: str
    name: str
    verified: bool = True


class SeedSendGrid(BaseModel):
    """Who may send through the store's SendGrid account: none, as on a fresh account, by default."""

    verified_senders: list[SeedSender] = Field(default_factory=list)
    authenticated_domains: list[str] = Field(
        default_factory=list, description="Domains whose every address may send (domain authentication)."
    )


class Seed(BaseModel):
    name: str
    description: str
    clock: datetime
    shop: SeedShop
    sendgrid: SeedSendGrid = Field(default_factory=SeedSendGrid)
    helpdesk_agents: list[SeedAgent] = Field(default_factory=list)
    products: list[SeedProduct]
    customers: list[SeedCustomer]
    orders: list[SeedOrder]


# ---------------------------------------------------------------------------- ids
# Stable, vendor-looking ids derived from the order number: the same seed gives the same world.


def order_id(number: int) -> int:
    return 5_200_000_000 + number


def customer_id(index: int) -> int:
    return 6_100_000_000 + index


def product_id(index: int) -> int:
    return 7_300_000_000 + index


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------- loading


def load_seed(name_or_path: str | Path = "demo_store") -> Seed:
    """A seed by name (a file in `sandbox/seeds/`) or by path."""
    path = Path(name_or_path)
    if path.suffix == ".json" and path.exists():
        text = path.read_text(encoding="utf-8")
    else:
        text = resources.files("sandbox.seeds").joinpath(f"{name_or_path}.json").read_text(encoding="utf-8")
    return Seed.model_validate(json.loads(text))


def _zendesk_agents(world: World, seed: Seed) -> None:
    """The Zendesk account's agents: the team, and the user the API token belongs to."""
    world.zendesk.subdomain = seed.shop.domain.split(".")[0]
    people = [(agent.name, agent.email) for agent in seed.helpdesk_agents]
    if all(email != world.credentials.zendesk_email for _, email in people):
        people.append(("Support assistant", world.credentials.zendesk_email))
    for index, (name, email) in enumerate(people, start=1):
        world.zendesk.users[index] = {
            "id": index,
            "url": f"https://{world.zendesk.subdomain}.zendesk.com/api/v2/users/{index}.json",
            "name": name,
            "email": email,
            "role": "agent" if email != world.credentials.zendesk_email else "admin",
            "active": True,
            "created_at": iso(seed.clock - timedelta(days=365)),
            "updated_at": iso(seed.clock - timedelta(days=365)),
        }


def _front_teammates(world: World, seed: Seed) -> None:
    """The Front company's teammates: the team (the API token acts for the company, not a person)."""
    for index, agent in enumerate(seed.helpdesk_agents, start=1):
        front_teammate(world, name=agent.name, email=agent.email, number=index)


def _intercom_workspace(world: World, seed: Seed) -> None:
    """The Intercom workspace: its teammates (the bot's admin among them), a support team, and the
    conversation data attribute the integration marks its conversations with."""
    world.intercom.app_id = seed.shop.domain.split(".")[0]
    bot = world.credentials.intercom_bot_admin_id
    people = [("Support assistant", f"assistant@{seed.shop.domain}", bot)]
    people += [(a.name, a.email, str(int(bot) + n)) for n, a in enumerate(seed.helpdesk_agents, start=1)]
    for name, email, admin_id in people:
        world.intercom.admins[admin_id] = {
            "type": "admin",
            "id": admin_id,
            "name": name,
            "email": email,
            "email_verified": True,
            "job_title": None,
            "away_mode_enabled": False,
            "away_mode_reassign": False,
            "has_inbox_seat": True,
            "team_ids": ["5017001"] if admin_id != bot else [],
        }
    world.intercom.teams["5017001"] = {
        "type": "team",
        "id": "5017001",
        "name": "Support",
        "admin_ids": [a for a in world.intercom.admins if a != bot],
    }
    world.intercom.conversation_attributes = ["support_agent_conversation_id"]


def build_world(seed: Seed | None = None) -> World:
    """A fresh world from a seed (the demo store by default)."""
    seed = seed or load_seed()
    world = World(seed_name=seed.name, clock=seed.clock)
    world.shopify.shop_domain = seed.shop.domain
    world.shopify.shop_name = seed.shop.name
    world.shopify.currency = seed.shop.currency
    world.shopify.access_scopes = list(seed.shop.access_scopes)
    world.gorgias.domain = seed.shop.domain.split(".")[0]

    _sendgrid(world, seed.sendgrid)

    for index, agent in enumerate(seed.helpdesk_agents, start=1):
        world.gorgias.users[index] = {"id": index, "name": agent.name, "email": agent.email, "role": "agent"}
    _zendesk_agents(world, seed)
    _front_teammates(world, seed)
    _intercom_workspace(world, seed)

    products: dict[str, JSON] = {}
    for index, product in enumerate(seed.products, start=1):
        record = _product(product, index, seed.clock)
        world.shopify.products[record["id"]] = record
        products[product.sku] = record

    customers: dict[str, JSON] = {}
    for index, customer in enumerate(seed.customers, start=1):
        record = _customer(customer, index, seed.clock)
        world.shopify.customers[record["id"]] = record
        customers[customer.email] = record
        world.gorgias.customers[index] = {
            "id": index,
            "email": customer.email,
            "name": f"{customer.first_name} {customer.last_name}",
            "firstname": customer.first_name,
            "lastname": customer.last_name,
            "channels": [{"type": "email", "address": customer.email}],
            "created_datetime": iso(seed.clock - timedelta(days=365)),
            "external_id": str(record["id"]),
        }

    for order in seed.orders:
        _add_order(world, seed, order, customers[order.email], products)
    for record in customers.values():
        owned = [o for o in world.shopify.orders.values() if o["customer"]["id"] == record["id"]]
        record["orders_count"] = len(owned)
        record["total_spent"] = money(sum((Decimal(o["total_price"]) for o in owned), Decimal(0)))
        if owned:
            latest = max(owned, key=lambda o: o["created_at"])
            record["last_order_id"] = latest["id"]
            record["last_order_name"] = latest["name"]
    seed_woocommerce(world)  # the same store on WooCommerce, from the Shopify records made above
    world.woocommerce.site_url = f"https://{seed.shop.domain.split('.')[0]}.example"
    seed_bigcommerce(world)  # and on BigCommerce
    world.next_id = 9_000_000
    return world


def _sendgrid(world: World, config: SeedSendGrid) -> None:
    for index, sender in enumerate(config.verified_senders, start=1):
        world.sendgrid.verified_senders.append(
            {
                "id": 1000 + index,
                "nickname": sender.name,
                "from_email": sender.email,
                "from_name": sender.name,
                "reply_to": sender.email,
                "reply_to_name": sender.name,
                "address": "2750 Mill St",
                "address2": "",
                "state": "NV",
                "city": "Reno",
                "country": "USA",
                "zip": "89502",
                "verified": sender.verified,
                "locked": False,
            }
        )
    for index, domain in enumerate(config.authenticated_domains, start=1):
        world.sendgrid.authenticated_domains.append(
            {
                "id": 2000 + index,
                "user_id": 1,
                "subdomain": "em",
                "domain": domain,
                "username": "sandbox",
                "ips": [],
                "custom_spf": False,
                "default": index == 1,
                "legacy": False,
                "automatic_security": True,
                "valid": True,
            }
        )


def _product(product: SeedProduct, index: int, clock: datetime) -> JSON:
    pid = product_id(index)
    return {
        "id": pid,
        "title": product.title,
        "handle": product.title.lower().replace(" ", "-"),
        "tags": ", ".join(product.tags),
        "status": "active",
        "created_at": iso(clock - timedelta(days=400)),
        "variants": [
            {
                "id": pid * 10 + 1,
                "product_id": pid,
                "title": product.variant_title or "Default Title",
                "sku": product.sku,
                "price": money(product.price),
                "grams": product.grams,
            }
        ],
    }


def _customer(customer: SeedCustomer, index: int, clock: datetime) -> JSON:
    address = _address(customer)
    return {
        "id": customer_id(index),
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone": customer.phone,
        "state": "enabled",
        "verified_email": True,
        "created_at": iso(clock - timedelta(days=500 - index * 7)),
        "updated_at": iso(clock - timedelta(days=30)),
        "orders_count": 0,
        "total_spent": "0.00",
        "currency": "USD",
        "tags": "",
        "note": None,
        "default_address": {**address, "id": customer_id(index) + 1, "default": True},
        "addresses": [{**address, "id": customer_id(index) + 1, "default": True}],
    }


def _address(customer: SeedCustomer) -> JSON:
    a = customer.address
    return {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "name": f"{customer.first_name} {customer.last_name}",
        "address1": a.address1,
        "address2": a.address2,
        "city": a.city,
        "province_code": a.province_code,
        "zip": a.zip,
        "country_code": a.country_code,
        "country": "United States" if a.country_code == "US" else a.country_code,
        "phone": customer.phone,
    }


def _add_order(world: World, seed: Seed, order: SeedOrder, customer: JSON, products: dict[str, JSON]) -> None:
    clock = seed.clock
    oid = order_id(order.number)
    placed = clock - timedelta(days=order.placed_days_ago)
    currency = seed.shop.currency
    line_items: list[JSON] = []
    for position, item in enumerate(order.items, start=1):
        product = products[item.sku]
        variant = product["variants"][0]
        line_items.append(
            {
                "id": oid * 100 + position,
                "product_id": product["id"],
                "variant_id": variant["id"],
                "title": product["title"],
                "variant_title": None if variant["title"] == "Default Title" else variant["title"],
                "name": product["title"]
                + (f" - {variant['title']}" if variant["title"] != "Default Title" else ""),
                "sku": variant["sku"],
                "quantity": item.quantity,
                "price": variant["price"],
                "price_set": money_set(Decimal(variant["price"]), currency),
                "grams": variant["grams"],
                "requires_shipping": True,
                "taxable": True,
                "fulfillable_quantity": item.quantity,
                "fulfillment_status": None,
                # Shopify 2024-10 keeps this at zero: discounts are in `discount_allocations`.
                "total_discount": "0.00",
                "discount_allocations": [],
                "tax_lines": [],
            }
        )
    shipping_lines: list[JSON] = [
        {
            "id": oid * 10,
            "title": "Standard",
            "code": "STANDARD",
            "source": "shopify",
            "price": money(order.shipping),
            "price_set": money_set(order.shipping, currency),
            "discount_allocations": [],
            "tax_lines": [],
        }
    ]
    applications, codes = apply_discounts(order.discounts, line_items, shipping_lines, currency)
    tax = add_tax_lines(line_items, order.tax_rate, currency)
    items_total = sum((Decimal(li["price"]) * li["quantity"] for li in line_items), Decimal(0))
    subtotal = sum((line_net(li) for li in line_items), Decimal(0))
    shipping = sum((Decimal(sl["discounted_price"]) for sl in shipping_lines), Decimal(0))
    discounts = (items_total - subtotal) + (order.shipping - shipping)
    total = subtotal + tax + shipping
    shipping_address = {k: v for k, v in customer["default_address"].items() if k not in ("id", "default")}
    record: JSON = {
        "id": oid,
        "admin_graphql_api_id": f"gid://shopify/Order/{oid}",
        "name": f"#{order.number}",
        "order_number": order.number,
        "number": order.number - 1000,
        "email": customer["email"],
        "contact_email": customer["email"],
        "created_at": iso(placed),
        "processed_at": iso(placed),
        "updated_at": iso(placed),
        "currency": seed.shop.currency,
        "presentment_currency": seed.shop.currency,
        "financial_status": "paid",
        "fulfillment_status": None,
        "cancelled_at": None,
        "cancel_reason": None,
        "closed_at": None,
        "subtotal_price": money(subtotal),
        "total_line_items_price": money(items_total),
        "total_tax": money(tax),
        "total_discounts": money(discounts),
        "total_price": money(total),
        "current_subtotal_price": money(subtotal),
        "current_total_tax": money(tax),
        "current_total_discounts": money(discounts),
        "current_total_price": money(total),
        "total_shipping_price_set": money_set(order.shipping, currency),
        "discount_applications": applications,
        "discount_codes": codes,
        "shipping_lines": shipping_lines,
        "tax_lines": [{"title": "Sales tax", "rate": float(order.tax_rate), "price": money(tax)}]
        if tax
        else [],
        "payment_gateway_names": ([] if order.payment.gift_card is None else ["gift_card"])
        + [order.payment.gateway],
        "gateway": order.payment.gateway,
        "line_items": line_items,
        "shipping_address": shipping_address,
        "billing_address": shipping_address,
        "customer": {
            "id": customer["id"],
            "email": customer["email"],
            "first_name": customer["first_name"],
            "last_name": customer["last_name"],
        },
        "fulfillments": [],
        "refunds": [],
        "note": order.note,
        "note_attributes": [],
        "tags": ", ".join(order.tags),
        "test": False,
    }
    transactions = _payment(world, order, record, total, placed)
    world.shopify.transactions[oid] = transactions

    if order.cancelled:
        record["cancelled_at"] = iso(placed + timedelta(hours=2))
        record["cancel_reason"] = "customer"
        record["closed_at"] = record["cancelled_at"]
    if order.fulfillment is not None:
        fulfil(world, clock, record, order.fulfillment)
    if order.refunded == "full":
        _refund_fully(world, clock, record, transactions)
    world.shopify.orders[oid] = record


def _payment(world: World, order: SeedOrder, record: JSON, total: Decimal, placed: datetime) -> list[JSON]:
    oid = record["id"]
    transactions: list[JSON] = []
    remaining = total
    if order.payment.gift_card:
        transactions.append(
            _transaction(oid, 1, "sale", order.payment.gift_card, "gift_card", placed, record)
        )
        remaining -= order.payment.gift_card
    sale = _transaction(oid, len(transactions) + 1, "sale", remaining, order.payment.gateway, placed, record)
    if order.payment.gateway == "stripe":
        intent_id = order.payment.payment_intent or f"pi_seed{order.number:020d}"
        charge_id = "ch_" + intent_id.removeprefix("pi_")
        cents = int((remaining * 100).to_integral_value())
        created = int(placed.timestamp())
        world.stripe.payment_intents[intent_id] = _stripe_payment_intent(
            intent_id, charge_id, cents, created, record, order.number, world.shopify.shop_domain
        )
        world.stripe.charges[charge_id] = _stripe_charge(charge_id, intent_id, cents, created, record)
        sale["authorization"] = intent_id
        record["note_attributes"].append({"name": "stripe_payment_intent", "value": intent_id})
    transactions.append(sale)
    return transactions


def _stripe_payment_intent(
    intent_id: str, charge_id: str, cents: int, created: int, record: JSON, number: int, shop: str
) -> JSON:
    """A succeeded, captured payment intent with every field Stripe's spec requires."""
    currency = record["currency"].lower()
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": cents,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": cents,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{intent_id}_secret_sandbox",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": None,
        "customer_account": None,
        "description": f"Order {record['name']}",
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": charge_id,
        "livemode": False,
        "managed_payments": None,
        "metadata": {"order_number": str(number), "shop": shop},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": "pm_" + intent_id.removeprefix("pi_"),
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": record["email"],
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }


def _stripe_charge(charge_id: str, intent_id: str, cents: int, created: int, record: JSON) -> JSON:
    """The payment intent's succeeded card charge, with every field Stripe's spec requires."""
    address = record["billing_address"]
    return {
        "id": charge_id,
        "object": "charge",
        "amount": cents,
        "amount_captured": cents,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": "txn_" + charge_id.removeprefix("ch_"),
        "billing_details": {
            "address": {
                "city": address["city"],
                "country": address["country_code"],
                "line1": address["address1"],
                "line2": address.get("address2"),
                "postal_code": address["zip"],
                "state": address["province_code"],
            },
            "email": record["email"],
            "name": address["name"],
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": None,
        "captured": True,
        "created": created,
        "currency": record["currency"].lower(),
        "customer": None,
        "description": f"Order {record['name']}",
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": {"order_number": str(record["order_number"])},
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": True,
        "payment_intent": intent_id,
        "payment_method": "pm_" + intent_id.removeprefix("pi_"),
        "payment_method_details": {
            "card": {"brand": "visa", "country": "US", "exp_month": 8, "exp_year": 2030, "last4": "4242"},
            "type": "card",
        },
        "receipt_email": record["email"],
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/sandbox/{charge_id}",
        "refunded": False,
        "refunds": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/charges/{charge_id}/refunds",
        },
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }


def _transaction(
    oid: int, position: int, kind: str, amount: Decimal, gateway: str, moment: datetime, record: JSON
) -> JSON:
    return {
        "id": oid * 10 + position,
        "order_id": oid,
        "kind": kind,
        "gateway": gateway,
        "status": "success",
        "amount": money(amount),
        "currency": record["currency"],
        "created_at": iso(moment),
        "processed_at": iso(moment),
        "parent_id": None,
        "test": False,
        "authorization": None,
    }


def fulfil(world: World, clock: datetime, record: JSON, fulfilment: SeedFulfillment) -> None:
    """Ship the order: a fulfilment with tracking (and its EasyPost tracker), every line fulfilled."""
    shipped = clock - timedelta(days=fulfilment.days_ago)
    delivered = (
        clock - timedelta(days=fulfilment.delivered_days_ago)
        if fulfilment.delivered_days_ago is not None
        else None
    )
    tracker = fulfilment.tracker or SeedTracker(status="delivered" if delivered else "in_transit")
    url = CARRIER_URLS[fulfilment.carrier].format(code=fulfilment.tracking_number)
    record["fulfillments"].append(
        {
            "id": record["id"] + 1_000_000_000,
            "order_id": record["id"],
            "status": "success",
            "created_at": iso(shipped),
            "updated_at": iso(delivered or shipped),
            "service": "manual",
            "tracking_company": fulfilment.carrier,
            "tracking_number": fulfilment.tracking_number,
            "tracking_numbers": [fulfilment.tracking_number],
            "tracking_url": url,
            "tracking_urls": [url],
            "shipment_status": _shipment_status(tracker.status),
            "line_items": [dict(item, fulfillable_quantity=0) for item in record["line_items"]],
        }
    )
    for item in record["line_items"]:
        item["fulfillable_quantity"] = 0
        item["fulfillment_status"] = "fulfilled"
    record["fulfillment_status"] = "fulfilled"
    record["updated_at"] = iso(delivered or shipped)
    _tracker(world, clock, record, fulfilment, tracker, shipped, delivered)


def _shipment_status(status: str) -> str | None:
    return {
        "pre_transit": "label_printed",
        "in_transit": "in_transit",
        "out_for_delivery": "out_for_delivery",
        "delivered": "delivered",
        "failure": "failure",
        "return_to_sender": "failure",
    }.get(status)


def _tracker(
    world: World,
    clock: datetime,
    record: JSON,
    fulfilment: SeedFulfillment,
    tracker: SeedTracker,
    shipped: datetime,
    delivered: datetime | None,
) -> None:
    city = record["shipping_address"]["city"]
    state = record["shipping_address"]["province_code"]
    events = tracker.events or _default_events(tracker.status, fulfilment, city, state, delivered)
    details: list[JSON] = [
        {
            "object": "TrackingDetail",
            "message": event.message,
            "description": event.message,
            "status": event.status,
            "status_detail": event.status_detail or event.status,
            "datetime": iso(clock - timedelta(days=event.days_ago)),
            "source": fulfilment.carrier,
            "carrier_code": None,
            "tracking_location": {
                "object": "TrackingLocation",
                "city": event.city,
                "state": event.state,
                "country": "US",
                "zip": None,
            },
        }
        for event in sorted(events, key=lambda e: -e.days_ago)
    ]
    tracker_id = f"trk_{record['order_number']:020d}"
    est = (
        clock + timedelta(days=tracker.est_delivery_in_days)
        if tracker.est_delivery_in_days is not None
        else delivered
    )
    world.easypost.trackers[tracker_id] = {
        "id": tracker_id,
        "object": "Tracker",
        "mode": "test",
        "tracking_code": fulfilment.tracking_number,
        "status": tracker.status,
        "status_detail": tracker.status_detail or tracker.status,
        "carrier": fulfilment.carrier,
        "created_at": iso(shipped),
        "updated_at": details[-1]["datetime"] if details else iso(shipped),
        "est_delivery_date": iso(est) if est else None,
        "signed_by": None,
        "weight": None,
        "shipment_id": None,
        "public_url": f"https://track.easypost.com/{tracker_id}",
        "tracking_details": details,
        "carrier_detail": {"object": "CarrierDetail", "service": fulfilment.service},
        "fees": [],
    }


def _default_events(
    status: str, fulfilment: SeedFulfillment, city: str, state: str, delivered: datetime | None
) -> list[SeedEvent]:
    shipped = fulfilment.days_ago
    events = [
        SeedEvent(
            days_ago=shipped, status="pre_transit", message="Shipping label created", city="Reno", state="NV"
        ),
        SeedEvent(
            days_ago=max(shipped - 0.4, 0.05),
            status="in_transit",
            message="Picked up by carrier",
            city="Reno",
            state="NV",
        ),
    ]
    if status in ("in_transit", "out_for_delivery", "delivered") and shipped > 1:
        events.append(
            SeedEvent(
                days_ago=max(shipped - 1.2, 0.04),
                status="in_transit",
                message="Arrived at regional facility",
                city="Sacramento",
                state="CA",
            )
        )
    if status in ("out_for_delivery", "delivered"):
        day = fulfilment.delivered_days_ago or 0.1
        events.append(
            SeedEvent(
                days_ago=day + 0.3,
                status="out_for_delivery",
                message="Out for delivery",
                city=city,
                state=state,
            )
        )
    if status == "delivered":
        events.append(
            SeedEvent(
                days_ago=fulfilment.delivered_days_ago or 0.02,
                status="delivered",
                message="Delivered, front door",
                city=city,
                state=state,
            )
        )
    return events


def _refund_fully(world: World, clock: datetime, record: JSON, transactions: list[JSON]) -> None:
    moment = clock - timedelta(days=1)
    refund_id = record["id"] + 2_000_000_000
    refund_transactions = []
    for position, sale in enumerate(list(transactions), start=len(transactions) + 1):
        refund = dict(
            sale, id=record["id"] * 10 + position, kind="refund", parent_id=sale["id"], created_at=iso(moment)
        )
        refund["processed_at"] = refund["created_at"]
        refund_transactions.append(refund)
        transactions.append(refund)
    record["refunds"].append(
        {
            "id": refund_id,
            "order_id": record["id"],
            "created_at": iso(moment),
            "processed_at": iso(moment),
            "note": "Refunded by support: item arrived damaged",
            "restock": False,
            "refund_line_items": [
                {
                    "id": refund_id * 10 + index,
                    "line_item_id": item["id"],
                    "quantity": item["quantity"],
                    "subtotal": money(line_net(item)),
                    "total_tax": money(sum((Decimal(t["price"]) for t in item["tax_lines"]), Decimal(0))),
                    "line_item": item,
                }
                for index, item in enumerate(record["line_items"], start=1)
            ],
            "transactions": refund_transactions,
            "order_adjustments": _shipping_refunded(record, refund_id),
        }
    )
    record["financial_status"] = "refunded"
    record["current_total_price"] = "0.00"


def _shipping_refunded(record: JSON, refund_id: int) -> list[JSON]:
    """The shipping a full refund returns, as Shopify records it (an order adjustment)."""
    shipping = sum((Decimal(s["discounted_price"]) for s in record["shipping_lines"]), Decimal(0))
    if shipping <= 0:
        return []
    return [
        {
            "id": refund_id * 10,
            "order_id": record["id"],
            "refund_id": refund_id,
            "kind": "shipping_refund",
            "reason": "Shipping refund",
            "amount": money(-shipping),
            "tax_amount": "0.00",
        }
    ]


def seed_json_schema() -> dict[str, Any]:
    """The JSON schema of a seed file, for editors and documentation."""
    return Seed.model_json_schema()
