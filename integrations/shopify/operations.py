"""Every GraphQL Admin operation the agent sends, each beside the pydantic model of what it selects.

One source of truth per operation: the query text and the model of its answer sit together, and
the models hold only the fields selected (`extra="ignore"`, camelCase aliases). Page sizes are
chosen so a full order read stays well under Shopify's 1,000-point single-query limit (and close
to its actual cost): an order with more lines, fulfilments or refunds than that is not a support
chat's order. Global ids (`gid://shopify/Order/123`) stay inside the integration: `legacy_id`
turns them into the numbers the rest of the project uses.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

# --------------------------------------------------------------------------- ids

_GID = re.compile(r"^gid://shopify/([A-Za-z]+)/([0-9]+)")


def to_gid(kind: str, number: int | str) -> str:
    """`to_gid("Order", 123)` -> `gid://shopify/Order/123` (a gid passes through)."""
    text = str(number)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{int(text)}"


def legacy_id(gid: str) -> int:
    """`gid://shopify/Order/123` -> 123 (a bare number passes through)."""
    match = _GID.match(gid)
    if match is None:
        return int(gid)
    return int(match.group(2))


def search_value(value: str) -> str:
    """A value quoted for Shopify's search syntax (`email:"a@b.c"`), quotes and backslashes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------- base models


class Gql(BaseModel):
    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True)


def _nodes(value: Any) -> Any:
    """A connection (`{"nodes": [...]}` or `{"edges": [{"node": ...}]}`) as its list of nodes."""
    if isinstance(value, dict):
        if "nodes" in value:
            return value["nodes"]
        if "edges" in value:
            return [edge["node"] for edge in value["edges"]]
    return [] if value is None else value


class MoneyV2(Gql):
    amount: Decimal
    currency_code: str | None = None


class MoneyBag(Gql):
    shop_money: MoneyV2

    @property
    def amount(self) -> Decimal:
        return self.shop_money.amount


def _amount(bag: MoneyBag | None) -> Decimal:
    return bag.amount if bag is not None else Decimal("0")


class UserError(Gql):
    field: list[str] | None = None
    message: str
    code: str | None = None


class PageInfo(Gql):
    has_next_page: bool = False
    end_cursor: str | None = None


# --------------------------------------------------------------------------- the order

MONEY = "shopMoney { amount currencyCode }"

ORDER_FIELDS = f"""
fragment OrderFields on Order {{
  id name email createdAt processedAt updatedAt cancelledAt closedAt note tags
  displayFinancialStatus displayFulfillmentStatus currencyCode paymentGatewayNames
  totalPriceSet {{ {MONEY} }} subtotalPriceSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }}
  customAttributes {{ key value }}
  shippingAddress {{ firstName lastName name address1 address2 city provinceCode zip countryCodeV2 phone }}
  customer {{ id email firstName lastName }}
  lineItems(first: 25) {{ nodes {{
    id name title sku quantity currentQuantity
    originalUnitPriceSet {{ {MONEY} }}
    discountAllocations {{ allocatedAmountSet {{ {MONEY} }} discountApplication {{ targetSelection targetType }} }}
    taxLines {{ priceSet {{ {MONEY} }} }}
    product {{ id }}
  }} }}
  shippingLines(first: 5) {{ nodes {{
    title discountedPriceSet {{ {MONEY} }} taxLines {{ priceSet {{ {MONEY} }} }}
  }} }}
  fulfillments(first: 5) {{
    id status displayStatus createdAt updatedAt deliveredAt
    trackingInfo(first: 3) {{ company number url }}
    fulfillmentLineItems(first: 10) {{ nodes {{ quantity lineItem {{ id }} }} }}
  }}
  refunds(first: 5) {{
    id createdAt note
    refundLineItems(first: 10) {{ nodes {{ quantity restockType lineItem {{ id }} }} }}
    refundShippingLines(first: 1) {{ nodes {{ subtotalAmountSet {{ {MONEY} }} }} }}
    transactions(first: 5) {{ nodes {{ id kind status gateway amountSet {{ {MONEY} }} parentTransaction {{ id }} }} }}
  }}
  transactions(first: 10) {{ id kind status gateway amountSet {{ {MONEY} }} parentTransaction {{ id }} }}
}}
"""


class Attribute(Gql):
    key: str
    value: str | None = None


class MailingAddress(Gql):
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country_code_v2: str | None = None
    phone: str | None = None


class CustomerRef(Gql):
    id: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class Ref(Gql):
    id: str


class DiscountApplication(Gql):
    target_selection: str | None = None
    target_type: str | None = None


class DiscountAllocation(Gql):
    allocated_amount_set: MoneyBag
    discount_application: DiscountApplication | None = None


class TaxLine(Gql):
    price_set: MoneyBag


class LineItem(Gql):
    id: str
    name: str | None = None
    title: str = ""
    sku: str | None = None
    quantity: int = 0
    current_quantity: int | None = None
    original_unit_price_set: MoneyBag
    discount_allocations: list[DiscountAllocation] = Field(default_factory=list)
    tax_lines: list[TaxLine] = Field(default_factory=list)
    product: Ref | None = None

    @property
    def discount(self) -> Decimal:
        return sum((a.allocated_amount_set.amount for a in self.discount_allocations), Decimal("0"))

    @property
    def tax(self) -> Decimal:
        return sum((t.price_set.amount for t in self.tax_lines), Decimal("0"))

    @property
    def unit_price(self) -> Decimal:
        return self.original_unit_price_set.amount


class ShippingLine(Gql):
    title: str | None = None
    discounted_price_set: MoneyBag
    tax_lines: list[TaxLine] = Field(default_factory=list)

    @property
    def tax(self) -> Decimal:
        return sum((t.price_set.amount for t in self.tax_lines), Decimal("0"))


class TrackingInfo(Gql):
    company: str | None = None
    number: str | None = None
    url: str | None = None


class FulfillmentLineItem(Gql):
    quantity: int | None = None
    line_item: Ref


class Fulfillment(Gql):
    id: str
    status: str
    display_status: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    delivered_at: datetime | None = None
    tracking_info: list[TrackingInfo] = Field(default_factory=list)
    fulfillment_line_items: Annotated[list[FulfillmentLineItem], BeforeValidator(_nodes)] = Field(
        default_factory=list
    )


class Transaction(Gql):
    id: str | None = None
    kind: str
    status: str | None = None
    gateway: str | None = None
    amount_set: MoneyBag
    parent_transaction: Ref | None = None

    @property
    def amount(self) -> Decimal:
        return self.amount_set.amount

    @property
    def succeeded_refund(self) -> bool:
        return self.kind == "REFUND" and self.status in (None, "SUCCESS")


class RefundLineItem(Gql):
    quantity: int
    restock_type: str | None = None
    line_item: Ref


class RefundShippingLine(Gql):
    subtotal_amount_set: MoneyBag


class Refund(Gql):
    id: str
    created_at: datetime | None = None
    note: str | None = None
    refund_line_items: Annotated[list[RefundLineItem], BeforeValidator(_nodes)] = Field(default_factory=list)
    refund_shipping_lines: Annotated[list[RefundShippingLine], BeforeValidator(_nodes)] = Field(
        default_factory=list
    )
    transactions: Annotated[list[Transaction], BeforeValidator(_nodes)] = Field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        """Money actually returned: the successful refund transactions."""
        return sum((t.amount for t in self.transactions if t.succeeded_refund), Decimal("0"))


class Order(Gql):
    """`OrderFields`: everything the tools read of an order."""

    id: str
    name: str
    email: str | None = None
    created_at: datetime | None = None
    processed_at: datetime | None = None
    updated_at: datetime | None = None
    cancelled_at: datetime | None = None
    closed_at: datetime | None = None
    note: str | None = None
    tags: list[str] = Field(default_factory=list)
    display_financial_status: str | None = None
    display_fulfillment_status: str | None = None
    currency_code: str = "USD"
    payment_gateway_names: list[str] = Field(default_factory=list)
    total_price_set: MoneyBag
    subtotal_price_set: MoneyBag | None = None
    total_tax_set: MoneyBag | None = None
    custom_attributes: list[Attribute] = Field(default_factory=list)
    shipping_address: MailingAddress | None = None
    customer: CustomerRef | None = None
    line_items: Annotated[list[LineItem], BeforeValidator(_nodes)] = Field(default_factory=list)
    shipping_lines: Annotated[list[ShippingLine], BeforeValidator(_nodes)] = Field(default_factory=list)
    fulfillments: list[Fulfillment] = Field(default_factory=list)
    refunds: list[Refund] = Field(default_factory=list)
    transactions: list[Transaction] = Field(default_factory=list)

    @property
    def legacy_id(self) -> int:
        return legacy_id(self.id)

    @property
    def number(self) -> int:
        """The number shoppers see: `#1001` -> 1001."""
        digits = re.findall(r"\d+", self.name)
        return int(digits[-1]) if digits else 0

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def total(self) -> Decimal:
        return self.total_price_set.amount

    @property
    def subtotal(self) -> Decimal:
        return _amount(self.subtotal_price_set)

    @property
    def total_tax(self) -> Decimal:
        return _amount(self.total_tax_set)

    def attribute(self, key: str) -> str | None:
        for attribute in self.custom_attributes:
            if attribute.key == key:
                return attribute.value
        return None

    def refunded_quantities(self) -> dict[int, int]:
        """Units already refunded, by line item id (numeric)."""
        refunded: dict[int, int] = {}
        for refund in self.refunds:
            for item in refund.refund_line_items:
                line = legacy_id(item.line_item.id)
                refunded[line] = refunded.get(line, 0) + item.quantity
        return refunded

    def refundable_quantities(self) -> dict[int, int]:
        """Units still refundable, by line item id (only those with any left)."""
        refunded = self.refunded_quantities()
        left = {legacy_id(i.id): i.quantity - refunded.get(legacy_id(i.id), 0) for i in self.line_items}
        return {line: quantity for line, quantity in left.items() if quantity > 0}

    @property
    def total_refunded(self) -> Decimal:
        return sum((refund.amount for refund in self.refunds), Decimal("0"))

    @property
    def shipping_refunded(self) -> Decimal:
        return sum(
            (line.subtotal_amount_set.amount for r in self.refunds for line in r.refund_shipping_lines),
            Decimal("0"),
        )


class OrderAnswer(Gql):
    order: Order | None = None


ORDER_QUERY = (
    """
query Order($id: ID!) {
  order(id: $id) { ...OrderFields }
}
"""
    + ORDER_FIELDS
)


# --------------------------------------------------------------------------- finding orders

FIND_ORDERS_QUERY = """
query FindOrders($query: String!, $first: Int!) {
  orders(first: $first, query: $query, sortKey: CREATED_AT, reverse: true) {
    nodes { id name email createdAt }
  }
}
"""

OLDEST_ORDER_QUERY = """
query OldestOrder {
  orders(first: 1, sortKey: CREATED_AT) { nodes { id name email createdAt } }
}
"""


class OrderSummary(Gql):
    id: str
    name: str
    email: str | None = None
    created_at: datetime | None = None

    @property
    def number(self) -> int:
        digits = re.findall(r"\d+", self.name)
        return int(digits[-1]) if digits else 0


class OrderSummaries(Gql):
    nodes: list[OrderSummary] = Field(default_factory=list)


class FindOrdersAnswer(Gql):
    orders: OrderSummaries


# --------------------------------------------------------------------------- the note

ORDER_NOTE_QUERY = """
query OrderNote($id: ID!) {
  order(id: $id) { id note updatedAt }
}
"""

ORDER_NOTE_UPDATE = """
mutation OrderNoteUpdate($input: OrderInput!) {
  orderUpdate(input: $input) {
    order { id note updatedAt }
    userErrors { field message }
  }
}
"""


class OrderNote(Gql):
    id: str
    note: str | None = None
    updated_at: datetime | None = None


class OrderNoteAnswer(Gql):
    order: OrderNote | None = None


class OrderNoteUpdatePayload(Gql):
    order: OrderNote | None = None
    user_errors: list[UserError] = Field(default_factory=list)


class OrderNoteUpdateAnswer(Gql):
    order_update: OrderNoteUpdatePayload | None = None


# --------------------------------------------------------------------------- the shipping address

ORDER_ADDRESS_UPDATE = """
mutation OrderAddressUpdate($input: OrderInput!) {
  orderUpdate(input: $input) {
    order { id }
    userErrors { field message }
  }
}
"""


class OrderUpdatePayload(Gql):
    order: Ref | None = None
    user_errors: list[UserError] = Field(default_factory=list)


class OrderAddressUpdateAnswer(Gql):
    order_update: OrderUpdatePayload | None = None


# --------------------------------------------------------------------------- refunds

SUGGESTED_REFUND_QUERY = f"""
query SuggestedRefund($id: ID!, $refundLineItems: [RefundLineItemInput!], $refundShipping: Boolean) {{
  order(id: $id) {{
    id currencyCode
    suggestedRefund(refundLineItems: $refundLineItems, refundShipping: $refundShipping) {{
      amountSet {{ {MONEY} }}
      maximumRefundableSet {{ {MONEY} }}
      shipping {{ amountSet {{ {MONEY} }} maximumRefundableSet {{ {MONEY} }} taxSet {{ {MONEY} }} }}
      refundLineItems {{ quantity restockType lineItem {{ id }} subtotalSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }} }}
      suggestedTransactions {{
        gateway kind amountSet {{ {MONEY} }} maximumRefundableSet {{ {MONEY} }} parentTransaction {{ id }}
      }}
    }}
  }}
}}
"""


class SuggestedTransaction(Gql):
    gateway: str | None = None
    kind: str
    amount_set: MoneyBag
    maximum_refundable_set: MoneyBag | None = None
    parent_transaction: Ref | None = None

    @property
    def amount(self) -> Decimal:
        return self.amount_set.amount

    @property
    def maximum_refundable(self) -> Decimal:
        return self.maximum_refundable_set.amount if self.maximum_refundable_set else self.amount


class ShippingRefund(Gql):
    amount_set: MoneyBag
    maximum_refundable_set: MoneyBag | None = None
    tax_set: MoneyBag | None = None


class SuggestedRefundLineItem(Gql):
    quantity: int
    restock_type: str | None = None
    line_item: Ref
    subtotal_set: MoneyBag | None = None
    total_tax_set: MoneyBag | None = None


class SuggestedRefund(Gql):
    amount_set: MoneyBag
    maximum_refundable_set: MoneyBag | None = None
    shipping: ShippingRefund
    refund_line_items: list[SuggestedRefundLineItem] = Field(default_factory=list)
    suggested_transactions: list[SuggestedTransaction] = Field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        """Total suggested (over every parent transaction)."""
        return sum((t.amount for t in self.suggested_transactions), Decimal("0"))

    @property
    def maximum_refundable(self) -> Decimal:
        return sum((t.maximum_refundable for t in self.suggested_transactions), Decimal("0"))


class SuggestedRefundOrder(Gql):
    id: str
    currency_code: str | None = None
    suggested_refund: SuggestedRefund | None = None


class SuggestedRefundAnswer(Gql):
    order: SuggestedRefundOrder | None = None


REFUND_FIELDS = f"""
fragment RefundFields on Refund {{
  id createdAt note
  transactions(first: 5) {{ nodes {{ id kind status gateway amountSet {{ {MONEY} }} parentTransaction {{ id }} }} }}
}}
"""

ORDER_REFUNDS_QUERY = (
    """
query OrderRefunds($id: ID!) {
  order(id: $id) { id refunds(first: 20) { ...RefundFields } }
}
"""
    + REFUND_FIELDS
)


class OrderRefunds(Gql):
    id: str
    refunds: list[Refund] = Field(default_factory=list)


class OrderRefundsAnswer(Gql):
    order: OrderRefunds | None = None


REFUND_CREATE = (
    """
mutation RefundCreate($input: RefundInput!) {
  refundCreate(input: $input) {
    refund { ...RefundFields }
    userErrors { field message }
  }
}
"""
    + REFUND_FIELDS
)


class RefundCreatePayload(Gql):
    refund: Refund | None = None
    user_errors: list[UserError] = Field(default_factory=list)


class RefundCreateAnswer(Gql):
    refund_create: RefundCreatePayload | None = None


# --------------------------------------------------------------------------- cancellation

ORDER_CANCEL = """
mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!, $restock: Boolean!,
                     $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refund: $refund, restock: $restock,
              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
    userErrors { field message }
  }
}
"""


class Job(Gql):
    id: str
    done: bool


class OrderCancelPayload(Gql):
    job: Job | None = None
    order_cancel_user_errors: list[UserError] = Field(default_factory=list)
    user_errors: list[UserError] = Field(default_factory=list)


class OrderCancelAnswer(Gql):
    order_cancel: OrderCancelPayload | None = None


JOB_QUERY = """
query Job($id: ID!) {
  job(id: $id) { id done }
}
"""


class JobAnswer(Gql):
    job: Job | None = None


# --------------------------------------------------------------------------- products, scopes

PRODUCT_TAGS_QUERY = """
query ProductTags($id: ID!) {
  product(id: $id) { id tags }
}
"""


class ProductTags(Gql):
    id: str
    tags: list[str] = Field(default_factory=list)


class ProductTagsAnswer(Gql):
    product: ProductTags | None = None


ACCESS_SCOPES_QUERY = """
query AccessScopes {
  currentAppInstallation { accessScopes { handle } }
}
"""


class AccessScope(Gql):
    handle: str


class AppInstallation(Gql):
    access_scopes: list[AccessScope] = Field(default_factory=list)


class AccessScopesAnswer(Gql):
    current_app_installation: AppInstallation


# --------------------------------------------------------------------------- webhooks

WEBHOOK_FIELDS = "id topic uri format apiVersion { handle } createdAt"

WEBHOOK_SUBSCRIPTIONS_QUERY = f"""
query WebhookSubscriptions($first: Int!, $after: String, $topics: [WebhookSubscriptionTopic!], $uri: String) {{
  webhookSubscriptions(first: $first, after: $after, topics: $topics, uri: $uri) {{
    nodes {{ {WEBHOOK_FIELDS} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""


class ApiVersion(Gql):
    handle: str


class WebhookSubscription(Gql):
    id: str
    topic: str = Field(description="The GraphQL enum: ORDERS_UPDATED.")
    uri: str
    format: str | None = None
    api_version: ApiVersion | None = None
    created_at: datetime | None = None

    @property
    def topic_path(self) -> str:
        """`ORDERS_UPDATED` -> `orders/updated`, the name webhook deliveries carry."""
        return topic_path(self.topic)


class WebhookSubscriptionPage(Gql):
    nodes: list[WebhookSubscription] = Field(default_factory=list)
    page_info: PageInfo = Field(default_factory=PageInfo)


class WebhookSubscriptionsAnswer(Gql):
    webhook_subscriptions: WebhookSubscriptionPage


WEBHOOK_SUBSCRIPTION_CREATE = f"""
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {{
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {{
    webhookSubscription {{ {WEBHOOK_FIELDS} }}
    userErrors {{ field message }}
  }}
}}
"""


class WebhookSubscriptionCreatePayload(Gql):
    webhook_subscription: WebhookSubscription | None = None
    user_errors: list[UserError] = Field(default_factory=list)


class WebhookSubscriptionCreateAnswer(Gql):
    webhook_subscription_create: WebhookSubscriptionCreatePayload | None = None


WEBHOOK_SUBSCRIPTION_DELETE = """
mutation WebhookSubscriptionDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}
"""


class WebhookSubscriptionDeletePayload(Gql):
    deleted_webhook_subscription_id: str | None = None
    user_errors: list[UserError] = Field(default_factory=list)


class WebhookSubscriptionDeleteAnswer(Gql):
    webhook_subscription_delete: WebhookSubscriptionDeletePayload | None = None


def topic_enum(topic: str) -> str:
    """`orders/updated` -> `ORDERS_UPDATED` (GraphQL's name of a webhook topic)."""
    return topic.replace("/", "_").upper()


def topic_path(enum: str) -> str:
    """`ORDERS_UPDATED` -> `orders/updated`. Topics with an underscore inside one part
    (`ORDER_TRANSACTIONS_CREATE`, `APP_SCOPES_UPDATE`) are resolved against the known list."""
    from integrations.shopify.models import WEBHOOK_TOPICS

    for topic in WEBHOOK_TOPICS:
        if topic_enum(topic) == enum:
            return topic
    head, _, tail = enum.lower().rpartition("_")
    return f"{head}/{tail}" if head else enum.lower()
