"""The sandbox's whole state: every vendor's records, the clock, injected faults.

Records are kept in each vendor's own JSON shape (as the real API returns them), so the
emulators serve them as they are and the clients parse them with the same models as the real
payloads. One `World` owns everything, so a test or an eval can snapshot, hash and diff the end
state of a conversation.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

JSON = dict[str, Any]
Vendor = Literal[
    "shopify",
    "woocommerce",
    "bigcommerce",
    "gorgias",
    "zendesk",
    "front",
    "intercom",
    "easypost",
    "stripe",
    "sendgrid",
    "openai",
    "twilio",
]
VENDORS: tuple[Vendor, ...] = (
    "shopify",
    "woocommerce",
    "bigcommerce",
    "gorgias",
    "zendesk",
    "front",
    "intercom",
    "easypost",
    "stripe",
    "sendgrid",
    "openai",
    "twilio",
)


class SandboxCredentials(BaseModel):
    """The only credentials the sandbox accepts; anything else gets the vendor's 401."""

    shopify_access_token: str = "shpat_sandbox"
    shopify_webhook_secret: str = "shopify_webhook_sandbox"
    woocommerce_consumer_key: str = "ck_sandbox"
    woocommerce_consumer_secret: str = "cs_sandbox"
    woocommerce_webhook_secret: str = "woocommerce_webhook_sandbox"
    bigcommerce_store_hash: str = "sandbox"
    bigcommerce_access_token: str = "bc_sandbox_token"
    gorgias_email: str = "agent@sandbox.test"
    gorgias_api_key: str = "gorgias_sandbox"
    zendesk_email: str = "agent@sandbox.test"
    zendesk_api_token: str = "zendesk_sandbox"
    front_api_token: str = "front_sandbox"
    front_channel_id: str = "cha_sandbox"
    intercom_access_token: str = "intercom_sandbox"
    intercom_bot_admin_id: str = "7451001"
    easypost_api_key: str = "EZTK_sandbox"
    stripe_api_key: str = "sk_test_sandbox"
    sendgrid_api_key: str = "SG.sandbox"
    openai_api_key: str = "sk-sandbox"
    twilio_account_sid: str = "AC" + "0" * 32
    twilio_auth_token: str = "twilio_auth_sandbox"
    easypost_webhook_secret: str = "easypost_webhook_sandbox"


class Fault(BaseModel):
    """A failure to inject into the next `remaining` matching calls."""

    vendor: Vendor
    route: str = Field(
        "*",
        description="Substring of the request path under the vendor base, or '*'. A Shopify GraphQL call's "
        "path is followed by '#' and its operation's name (`/api/2026-10/graphql.json#RefundCreate`).",
    )
    method: str = Field("*", description="HTTP method to match, or '*'.")
    kind: Literal["rate_limit", "error", "delay", "malformed"]
    status: int = Field(500, description="Status for kind=error.")
    retry_after: float = Field(2.0, description="Retry-After seconds for kind=rate_limit.")
    delay_seconds: float = Field(0.0, ge=0, le=30, description="Added latency for kind=delay.")
    remaining: int = Field(1, ge=1, le=1000, description="How many matching calls fail.")
    after_applying: bool = Field(
        False,
        description="kind=error: the call is carried out first and this error answered instead (the vendor "
        "acted, the answer was lost on the way back), as a gateway failing after the vendor does.",
    )
    drop_if_disconnected: bool = Field(
        False,
        description="kind=delay: a call whose client went away during the delay is dropped unprocessed "
        "(as if it never reached the vendor), instead of being carried out.",
    )

    def matches(self, vendor: str, method: str, path: str) -> bool:
        return (
            self.vendor == vendor
            and (self.method == "*" or self.method.upper() == method.upper())
            and (self.route == "*" or self.route in path)
        )


class ShopifyState(BaseModel):
    shop_domain: str = "sandbox-store.myshopify.com"
    shop_name: str = "Sandbox Store"
    currency: str = "USD"
    access_scopes: list[str] = Field(
        default_factory=lambda: ["read_orders", "write_orders", "read_products", "read_all_orders"],
        description="Scopes granted to the app's token; without read_all_orders only 60 days of orders show.",
    )
    customers: dict[int, JSON] = Field(default_factory=dict)
    products: dict[int, JSON] = Field(default_factory=dict)
    orders: dict[int, JSON] = Field(default_factory=dict)
    transactions: dict[int, list[JSON]] = Field(default_factory=dict, description="By order id.")
    webhooks: dict[int, JSON] = Field(default_factory=dict)


class WooCommerceState(BaseModel):
    """The WooCommerce store (REST API v3 shapes), seeded with the same orders as the Shopify one."""

    site_url: str = "https://sandbox-store.example"
    orders: dict[int, JSON] = Field(default_factory=dict, description="By order id (= order number).")
    refunds: dict[int, list[JSON]] = Field(default_factory=dict, description="By order id.")
    notes: dict[int, list[JSON]] = Field(default_factory=dict, description="By order id.")
    products: dict[int, JSON] = Field(default_factory=dict)
    webhooks: dict[int, JSON] = Field(default_factory=dict, description="Subscriptions (`POST /webhooks`).")


class BigCommerceState(BaseModel):
    """The BigCommerce store (V2 / V3 shapes), seeded with the same orders as the Shopify one."""

    orders: dict[int, JSON] = Field(default_factory=dict, description="V2 orders by id (= order number).")
    order_products: dict[int, list[JSON]] = Field(default_factory=dict, description="By order id.")
    shipping_addresses: dict[int, list[JSON]] = Field(default_factory=dict, description="By order id.")
    shipments: dict[int, list[JSON]] = Field(default_factory=dict, description="By order id.")
    refunds: dict[int, list[JSON]] = Field(default_factory=dict, description="V3 refunds by order id.")
    metafields: dict[int, list[JSON]] = Field(
        default_factory=dict, description="V3 order metafields by order id."
    )
    payments: dict[int, list[JSON]] = Field(
        default_factory=dict,
        description="How each order was paid: [{provider_id, provider_description, amount, offline_provider}] "
        "(what BigCommerce's refund quotes offer the money back through).",
    )
    products: dict[int, JSON] = Field(default_factory=dict, description="V3 catalog products.")
    hooks: dict[int, JSON] = Field(
        default_factory=dict, description="V3 webhook subscriptions (`/v3/hooks`)."
    )


class GorgiasState(BaseModel):
    domain: str = "sandbox"
    customers: dict[int, JSON] = Field(default_factory=dict)
    tickets: dict[int, JSON] = Field(default_factory=dict, description="Each ticket holds its 'messages'.")
    users: dict[int, JSON] = Field(default_factory=dict, description="Helpdesk agents (assignees).")


class ZendeskState(BaseModel):
    """A Zendesk Support account (API v2 shapes). Comments are kept per ticket, as the API serves them."""

    subdomain: str = "sandbox"
    users: dict[int, JSON] = Field(default_factory=dict, description="Agents and end users (requesters).")
    tickets: dict[int, JSON] = Field(default_factory=dict)
    comments: dict[int, list[JSON]] = Field(default_factory=dict, description="By ticket id, oldest first.")


class FrontState(BaseModel):
    """A Front company (Core API shapes): the store's application channel, its conversations (by
    number: the API id is `cnv_` + base 36 of it), their messages and comments, tags, teammates."""

    company_id: str = "cmp_sandbox"
    teammates: dict[str, JSON] = Field(default_factory=dict, description="By id (`tea_...`).")
    tags: dict[str, JSON] = Field(default_factory=dict, description="By id (`tag_...`).")
    conversations: dict[int, JSON] = Field(default_factory=dict)
    messages: dict[int, list[JSON]] = Field(
        default_factory=dict, description="By conversation, oldest first."
    )
    comments: dict[int, list[JSON]] = Field(
        default_factory=dict, description="By conversation, oldest first."
    )
    threads: dict[str, int] = Field(
        default_factory=dict, description="The channel's external conversation ids and their conversation."
    )


class IntercomState(BaseModel):
    """An Intercom workspace (REST API 2.x shapes). Conversations are kept without their parts; the
    parts are kept per conversation, as `GET /conversations/{id}` serves them."""

    app_id: str = "sandbox"
    admins: dict[str, JSON] = Field(default_factory=dict, description="Teammates by id (the bot's included).")
    teams: dict[str, JSON] = Field(default_factory=dict)
    contacts: dict[str, JSON] = Field(default_factory=dict, description="Users and leads by id.")
    conversations: dict[int, JSON] = Field(default_factory=dict)
    parts: dict[int, list[JSON]] = Field(
        default_factory=dict, description="By conversation id, oldest first."
    )
    tags: dict[str, JSON] = Field(default_factory=dict, description="The workspace's tags by id.")
    conversation_attributes: list[str] = Field(
        default_factory=list, description="Names of the conversation data attributes the workspace defines."
    )


class EasyPostState(BaseModel):
    trackers: dict[str, JSON] = Field(default_factory=dict, description="By tracker id.")
    scheduled: list[JSON] = Field(
        default_factory=list,
        description="Scans that happen when the clock reaches them: {tracker_id, detail} (control API).",
    )
    shipments: dict[str, JSON] = Field(default_factory=dict, description="By shipment id.")
    addresses: dict[str, JSON] = Field(default_factory=dict)


class StripeState(BaseModel):
    payment_intents: dict[str, JSON] = Field(default_factory=dict)
    charges: dict[str, JSON] = Field(default_factory=dict)
    refunds: dict[str, JSON] = Field(default_factory=dict)
    idempotency: dict[str, JSON] = Field(
        default_factory=dict,
        description="Idempotency-Key -> {fingerprint, status, body} of the first response.",
    )


class SendGridState(BaseModel):
    outbox: list[JSON] = Field(default_factory=list)
    verified_senders: list[JSON] = Field(
        default_factory=list, description="Sender Identities, as `GET /v3/verified_senders` lists them."
    )
    authenticated_domains: list[JSON] = Field(
        default_factory=list,
        description="Domain authentications, as `GET /v3/whitelabel/domains` lists them.",
    )


class TwilioState(BaseModel):
    """The store's Twilio account: its numbers, every text in and out, and Twilio's own opt-out list."""

    numbers: list[str] = Field(default_factory=lambda: ["+14155550100"], description="The store's numbers.")
    messages: list[JSON] = Field(
        default_factory=list,
        description="Message resources, oldest first (direction inbound or outbound-api).",
    )
    opted_out: list[str] = Field(
        default_factory=list, description="Numbers that texted STOP (Twilio refuses to text them: 21610)."
    )


class VendorWebhooks(BaseModel):
    """Where the emulated Twilio number and EasyPost account post their webhooks (wiring, not state)."""

    twilio_sms_url: str | None = Field(None, description="The number's 'A message comes in' webhook.")
    easypost_url: str | None = Field(None, description="The EasyPost webhook (tracker.updated events).")


class ShopifyConsistency(BaseModel):
    """How Shopify's reads trail a change it carries out in a background job (not business state)."""

    cancel_lag_reads: int = Field(
        0,
        ge=0,
        description="Reads of a just-cancelled order that still show it as it was (Shopify cancels in a "
        "background job; its own cancel answer always does).",
    )
    stale_orders: dict[int, JSON] = Field(
        default_factory=dict, description="Order id -> {'order': the view still served, 'reads_left': n}."
    )
    jobs: dict[str, JSON] = Field(
        default_factory=dict,
        description="GraphQL background jobs (`orderCancel`) by job id: {'order_id', 'reason', 'refund', "
        "'done'}; a pending one runs before the next GraphQL call is answered.",
    )


class HelpdeskWebhook(BaseModel):
    """Where the emulated helpdesk posts its webhooks (human replies, closes), and the secret it signs
    them with: Gorgias sends it in `secret_header`; a helpdesk that signs its deliveries (Zendesk)
    keys its signature with it and sends its own headers."""

    url: str | None = None
    secret_header: str = "X-Support-Agent-Secret"
    secret: str = "gorgias_webhook_sandbox"


class World(BaseModel):
    """Every vendor's state plus the clock. Mutated only by the emulators and the control API."""

    seed_name: str = "empty"
    store_platform: Literal["shopify", "woocommerce", "bigcommerce"] = Field(
        "shopify",
        description="The platform the agent uses: both emulators serve the same store, inspection reads this one.",
    )
    helpdesk: Literal["gorgias", "zendesk", "front", "intercom"] = Field(
        "gorgias",
        description="The helpdesk the agent uses: the control API's ticket routes act on this one (sandbox/helpdesks).",
    )
    clock: datetime = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    next_id: int = 1000
    credentials: SandboxCredentials = Field(default_factory=SandboxCredentials)
    shopify: ShopifyState = Field(default_factory=ShopifyState)
    woocommerce: WooCommerceState = Field(default_factory=WooCommerceState)
    bigcommerce: BigCommerceState = Field(default_factory=BigCommerceState)
    gorgias: GorgiasState = Field(default_factory=GorgiasState)
    zendesk: ZendeskState = Field(default_factory=ZendeskState)
    front: FrontState = Field(default_factory=FrontState)
    intercom: IntercomState = Field(default_factory=IntercomState)
    easypost: EasyPostState = Field(default_factory=EasyPostState)
    stripe: StripeState = Field(default_factory=StripeState)
    sendgrid: SendGridState = Field(default_factory=SendGridState)
    twilio: TwilioState = Field(default_factory=TwilioState)
    faults: list[Fault] = Field(default_factory=list)
    shopify_consistency: ShopifyConsistency = Field(default_factory=ShopifyConsistency)
    helpdesk_webhook: HelpdeskWebhook = Field(default_factory=HelpdeskWebhook)
    webhook_deliveries: list[JSON] = Field(default_factory=list, description="Helpdesk webhooks sent.")
    vendor_webhooks: VendorWebhooks = Field(default_factory=VendorWebhooks)
    vendor_deliveries: list[JSON] = Field(
        default_factory=list, description="Twilio and EasyPost webhooks delivered (url, kind, status)."
    )
    shopify_deliveries: list[JSON] = Field(
        default_factory=list, description="Shopify webhooks delivered (sandbox/shopify_webhooks.py)."
    )
    woocommerce_deliveries: list[JSON] = Field(
        default_factory=list, description="WooCommerce webhooks delivered (sandbox/vendors/woocommerce.py)."
    )
    bigcommerce_deliveries: list[JSON] = Field(
        default_factory=list, description="BigCommerce webhooks delivered (sandbox/vendors/bigcommerce.py)."
    )

    # ------------------------------------------------------------------ ids and time

    def new_int_id(self) -> int:
        """Deterministic numeric ids, so the same conversation gives the same world hash."""
        self.next_id += 1
        return self.next_id

    def new_str_id(self, prefix: str) -> str:
        """Deterministic vendor-style ids such as `re_0000000000001001`."""
        return f"{prefix}_{self.new_int_id():016d}"

    def now(self) -> datetime:
        return self.clock

    def now_iso(self) -> str:
        return self.clock.isoformat().replace("+00:00", "Z")

    # ------------------------------------------------------------------ faults

    def take_fault(self, vendor: str, method: str, path: str) -> Fault | None:
        """The first fault matching this call, counting it down (removed when used up)."""
        for fault in self.faults:
            if fault.matches(vendor, method, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # ------------------------------------------------------------------ lookups used by several routes

    def order_by_number(self, number: int) -> JSON | None:
        for order in self.shopify.orders.values():
            if order.get("order_number") == number:
                return order
        return None

    # ------------------------------------------------------------------ inspection

    def snapshot(self) -> JSON:
        """The vendor state as plain JSON (faults and delivery logs excluded: not business state)."""
        data = self.model_dump(
            mode="json",
            exclude={
                "faults",
                "credentials",
                "helpdesk_webhook",
                "shopify_consistency",
                "shopify_deliveries",
                "woocommerce_deliveries",
                "bigcommerce_deliveries",
                "vendor_webhooks",
                "vendor_deliveries",
            },
        )
        return data

    def digest(self) -> str:
        """A stable hash of the business state, for evals and regression checks."""
        canonical = json.dumps(self.snapshot(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def copy_world(self) -> World:
        return self.model_copy(deep=True)


def diff_json(before: Any, after: Any, path: str = "") -> list[JSON]:
    """A list of changes between two JSON values: `{"path", "op", "before", "after"}`.

    Used by evals to show what a conversation changed in the world.
    """
    changes: list[JSON] = []
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}/{key}"
            if key not in before:
                changes.append({"path": sub, "op": "add", "before": None, "after": copy.deepcopy(after[key])})
            elif key not in after:
                changes.append(
                    {"path": sub, "op": "remove", "before": copy.deepcopy(before[key]), "after": None}
                )
            else:
                changes.extend(diff_json(before[key], after[key], sub))
    elif isinstance(before, list) and isinstance(after, list):
        for index in range(max(len(before), len(after))):
            sub = f"{path}/{index}"
            if index >= len(before):
                changes.append(
                    {"path": sub, "op": "add", "before": None, "after": copy.deepcopy(after[index])}
                )
            elif index >= len(after):
                changes.append(
                    {"path": sub, "op": "remove", "before": copy.deepcopy(before[index]), "after": None}
                )
            else:
                changes.extend(diff_json(before[index], after[index], sub))
    elif before != after:
        changes.append({"path": path or "/", "op": "replace", "before": before, "after": after})
    return changes
