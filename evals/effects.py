"""What a conversation changed in the world, read from two world snapshots (`World.snapshot()`).

Pure functions over vendor-shaped JSON, so the scorers can be tested with hand-built dicts.
Side effects are the changes a shopper's money or parcels depend on: refunds, return labels,
cancellations and address changes. Tickets, notes and emails are recorded too, but they are
bookkeeping, not side effects.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal

from sandbox.helpdesks import snapshot_ticket_views

JSON = dict[str, Any]
EffectKind = Literal["refund", "label", "cancellation", "address_change"]
_RETURN_REFERENCE = re.compile(r"return-(\d+)")


@dataclass(frozen=True)
class SideEffect:
    kind: EffectKind
    order: int | None
    amount: Decimal | None = None
    processor: str | None = None
    detail: str = ""

    def describe(self) -> str:
        parts = [self.kind, f"#{self.order}" if self.order is not None else "(no order)"]
        if self.amount is not None:
            parts.append(f"{self.amount}")
        if self.processor:
            parts.append(f"via {self.processor}")
        if self.detail:
            parts.append(self.detail)
        return " ".join(parts)


@dataclass(frozen=True)
class Email:
    to: tuple[str, ...]
    subject: str
    text: str


@dataclass(frozen=True)
class Text:
    to: str
    body: str


@dataclass(frozen=True)
class TicketState:
    id: str
    status: str
    tags: tuple[str, ...]
    notes: tuple[str, ...]
    messages: tuple[str, ...]


@dataclass
class Changes:
    """Everything that changed between two snapshots, in scorer-friendly form."""

    effects: list[SideEffect] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    tickets: list[TicketState] = field(default_factory=list)
    labels: list[JSON] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)

    def to_json(self) -> JSON:
        return {
            "effects": [e.describe() for e in self.effects],
            "emails": [asdict(e) | {"to": list(e.to)} for e in self.emails],
            "texts": [asdict(t) for t in self.texts],
            "tickets": [
                asdict(t) | {"tags": list(t.tags), "notes": list(t.notes), "messages": list(t.messages)}
                for t in self.tickets
            ],
        }


def _woocommerce_view(order: JSON, refunds: list[JSON], notes: list[JSON]) -> JSON:
    """A WooCommerce order in the Shopify terms the scoring reads (number, refunds, cancellation,
    address, the private notes as the note)."""
    shipping = order.get("shipping") or {}
    name = " ".join(p for p in (shipping.get("first_name"), shipping.get("last_name")) if p)
    return {
        "order_number": int(order.get("number") or 0),
        "refunds": [
            {"id": f"wc-{r['id']}", "transactions": [{"kind": "refund", "amount": r.get("amount", "0")}]}
            for r in refunds
        ],
        "cancelled_at": order.get("date_modified_gmt") if order.get("status") == "cancelled" else None,
        "cancel_reason": None,
        "note": "\n".join(n.get("note", "") for n in notes if not n.get("customer_note")) or None,
        "shipping_address": {
            "name": name or None,
            "address1": shipping.get("address_1"),
            "address2": shipping.get("address_2") or None,
            "city": shipping.get("city"),
            "province_code": shipping.get("state"),
            "zip": shipping.get("postcode"),
            "country_code": shipping.get("country"),
        },
    }


def _bigcommerce_view(order: JSON, refunds: list[JSON], addresses: list[JSON]) -> JSON:
    """A BigCommerce order in the Shopify terms the scoring reads (the staff notes as the note, the
    first shipping address as the address, Cancelled as the cancellation)."""
    address = addresses[0] if addresses else {}
    name = " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p)
    return {
        "order_number": int(order.get("id") or 0),
        "refunds": [
            {
                "id": f"bc-{r['id']}",
                "transactions": [{"kind": "refund", "amount": str(r.get("total_amount", "0"))}],
            }
            for r in refunds
        ],
        "cancelled_at": order.get("date_modified") if order.get("status_id") == 5 else None,
        "cancel_reason": None,
        "note": order.get("staff_notes") or None,
        "shipping_address": {
            "name": name or None,
            "address1": address.get("street_1"),
            "address2": address.get("street_2") or None,
            "city": address.get("city"),
            "province_code": address.get("state"),
            "zip": address.get("zip"),
            "country_code": address.get("country_iso2"),
        },
    }


def _orders(snapshot: JSON) -> dict[str, JSON]:
    """The orders of the platform the agent ran on (WooCommerce's and BigCommerce's restated in Shopify's terms)."""
    if snapshot.get("store_platform") == "bigcommerce":
        bc = snapshot.get("bigcommerce", {})
        refunds, addresses = bc.get("refunds", {}), bc.get("shipping_addresses", {})
        return {
            key: _bigcommerce_view(order, refunds.get(key, []), addresses.get(key, []))
            for key, order in bc.get("orders", {}).items()
        }
    if snapshot.get("store_platform") == "woocommerce":
        woo = snapshot.get("woocommerce", {})
        refunds, notes = woo.get("refunds", {}), woo.get("notes", {})
        return {
            key: _woocommerce_view(order, refunds.get(key, []), notes.get(key, []))
            for key, order in woo.get("orders", {}).items()
        }
    orders: dict[str, JSON] = snapshot.get("shopify", {}).get("orders", {})
    return orders


def _refund_amount(refund: JSON) -> Decimal:
    return sum(
        (
            Decimal(str(t.get("amount", "0")))
            for t in refund.get("transactions", [])
            if t.get("kind") == "refund"
        ),
        Decimal(0),
    )


def _address_text(address: JSON | None) -> str:
    if not address:
        return ""
    keys = ("name", "address1", "address2", "city", "province_code", "zip", "country_code")
    return ", ".join(str(address[k]) for k in keys if address.get(k))


def _stripe_order(snapshot: JSON, refund: JSON) -> int | None:
    number = (refund.get("metadata") or {}).get("order_number")
    if not number:
        intent = snapshot.get("stripe", {}).get("payment_intents", {}).get(refund.get("payment_intent") or "")
        number = ((intent or {}).get("metadata") or {}).get("order_number")
    return int(number) if number and str(number).isdigit() else None


def order_effects(before: JSON, after: JSON) -> list[SideEffect]:
    """Shopify refunds, cancellations and address changes."""
    effects: list[SideEffect] = []
    old_orders = _orders(before)
    for key, order in _orders(after).items():
        number = int(order.get("order_number") or 0)
        old = old_orders.get(key, {})
        known = {r.get("id") for r in old.get("refunds", [])}
        for refund in order.get("refunds", []):
            if refund.get("id") not in known:
                effects.append(
                    SideEffect("refund", number, amount=_refund_amount(refund), processor="shopify")
                )
        if order.get("cancelled_at") and not old.get("cancelled_at"):
            effects.append(SideEffect("cancellation", number, detail=str(order.get("cancel_reason") or "")))
        if old and order.get("shipping_address") != old.get("shipping_address"):
            effects.append(
                SideEffect("address_change", number, detail=_address_text(order.get("shipping_address")))
            )
    return effects


def stripe_effects(before: JSON, after: JSON) -> list[SideEffect]:
    known = set(before.get("stripe", {}).get("refunds", {}))
    effects: list[SideEffect] = []
    for key, refund in after.get("stripe", {}).get("refunds", {}).items():
        if key in known:
            continue
        amount = Decimal(int(refund.get("amount", 0))) / 100
        effects.append(
            SideEffect(
                "refund",
                _stripe_order(after, refund),
                amount=amount.quantize(Decimal("0.01")),
                processor="stripe",
            )
        )
    return effects


def new_labels(before: JSON, after: JSON) -> list[JSON]:
    """Shipments that bought a label since `before`: `{order, tracking_code, label_url, is_return}`."""
    known = set(before.get("easypost", {}).get("shipments", {}))
    old_shipments = before.get("easypost", {}).get("shipments", {})
    rows: list[JSON] = []
    for key, shipment in after.get("easypost", {}).get("shipments", {}).items():
        label = shipment.get("postage_label")
        if not label or (key in known and (old_shipments[key] or {}).get("postage_label")):
            continue
        match = _RETURN_REFERENCE.search(str(shipment.get("reference") or ""))
        rows.append(
            {
                "order": int(match.group(1)) if match else None,
                "tracking_code": shipment.get("tracking_code"),
                "label_url": label.get("label_url"),
                "is_return": bool(shipment.get("is_return")),
            }
        )
    return rows


def new_emails(before: JSON, after: JSON) -> list[Email]:
    old = before.get("sendgrid", {}).get("outbox", [])
    known = {m.get("message_id") for m in old}
    emails: list[Email] = []
    for mail in after.get("sendgrid", {}).get("outbox", []):
        if mail.get("message_id") in known:
            continue
        text = str(mail.get("text") or "") + "\n" + str(mail.get("html") or "")
        emails.append(Email(tuple(str(t) for t in mail.get("to", [])), str(mail.get("subject") or ""), text))
    return emails


def new_texts(before: JSON, after: JSON) -> list[Text]:
    """Texts the store sent (through its Twilio number) between two snapshots."""
    known = {m.get("sid") for m in before.get("twilio", {}).get("messages", [])}
    return [
        Text(str(m.get("to")), str(m.get("body") or ""))
        for m in after.get("twilio", {}).get("messages", [])
        if m.get("sid") not in known and m.get("direction") == "outbound-api"
    ]


def changed_tickets(before: JSON, after: JSON) -> list[TicketState]:
    # The configured helpdesk's tickets, in the sandbox's vendor-neutral view (sandbox/helpdesks).
    old = {str(t.get("id")): t for t in snapshot_ticket_views(before)}
    tickets: list[TicketState] = []
    for ticket in snapshot_ticket_views(after):
        key = str(ticket.get("id"))
        if old.get(key) == ticket:
            continue
        messages = ticket.get("messages", [])
        notes = tuple(str(m.get("body_text") or "") for m in messages if m.get("channel") == "internal-note")
        tickets.append(
            TicketState(
                id=str(ticket.get("id", key)),
                status=str(ticket.get("status") or ""),
                tags=tuple(str(t.get("name")) for t in ticket.get("tags", []) if isinstance(t, dict)),
                notes=notes,
                messages=tuple(
                    str(m.get("body_text") or "") for m in messages if m.get("channel") != "internal-note"
                ),
            )
        )
    return tickets


def changes(before: JSON, after: JSON) -> Changes:
    """Every change between two world snapshots."""
    labels = new_labels(before, after)
    effects = order_effects(before, after) + stripe_effects(before, after)
    effects += [SideEffect("label", row["order"], detail=str(row["tracking_code"] or "")) for row in labels]
    return Changes(
        effects=effects,
        emails=new_emails(before, after),
        tickets=changed_tickets(before, after),
        labels=labels,
        texts=new_texts(before, after),
    )


def address_text(snapshot: JSON, number: int) -> str:
    for order in _orders(snapshot).values():
        if order.get("order_number") == number:
            return _address_text(order.get("shipping_address"))
    return ""


def find_order(snapshot: JSON, number: int) -> JSON | None:
    for order in _orders(snapshot).values():
        if order.get("order_number") == number:
            return order
    return None
