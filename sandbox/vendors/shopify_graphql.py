"""Emulator of Shopify's GraphQL Admin API: `POST /shopify/admin/api/{version}/graphql.json`.

A real GraphQL server (graphql-core) over the SDL of `shopify_graphql_schema`, resolving against
the `World`'s records (kept in Shopify's resource shape, as webhooks deliver them), with the store's
refund arithmetic, cancellation, scope and history rules of `sandbox.vendors.shopify`. It answers as
Shopify does:

- HTTP 200 with `data`, `errors` (each with `extensions.code`: `THROTTLED`, `ACCESS_DENIED`,
  `MAX_COST_EXCEEDED`, `undefinedField`, ...) and `extensions.cost` (`requestedQueryCost`,
  `actualQueryCost`, `throttleStatus`); mutations report refusals as `userErrors`;
- 401 for a wrong `X-Shopify-Access-Token`, 400 for a body that is not a query;
- cost-based throttling: a leaky bucket of 2,000 points restored at 100 points a second (the
  standard plan: shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits); a query is charged
  its requested cost up front and refunded the difference once its actual cost is known; a
  single query may cost at most 1,000 points;
- `orderCancel` returns a `Job`: the cancellation runs in the background (here: before the next
  GraphQL call is answered), `job(id:) { done }` says when it has;
- webhooks are delivered after the answer, by `sandbox.shopify_webhooks`, signed as Shopify signs them.

Global ids are `gid://shopify/<Type>/<numeric id>` of the World's numeric ids.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
)
from graphql import execute as graphql_execute
from graphql.execution import ExecutionResult
from graphql.utilities import value_from_ast_untyped
from starlette.background import BackgroundTask

from integrations.shopify.models import API_VERSION_HEADER, WEBHOOK_TOPICS, granted_scopes, served_api_version
from sandbox import shopify_webhooks as webhooks
from sandbox.http import WorldDep, require_shopify
from sandbox.seed import money
from sandbox.vendors import shopify as store
from sandbox.vendors.shopify_graphql_schema import SDL
from sandbox.world import JSON, World

MAX_AVAILABLE = 2000.0
RESTORE_RATE = 100.0
MAX_QUERY_COST = 1000
MUTATION_COST = 10
DEFAULT_PAGE = 1  # a connection without `first`/`last` is refused on Shopify; counted as one here
RATE_LIMITS_DOC = "https://shopify.dev/api/usage/rate-limits"
ACCESS_SCOPES_DOC = "https://shopify.dev/api/usage/access-scopes"


# --------------------------------------------------------------------------- global ids


def gid(kind: str, number: Any) -> str:
    return f"gid://shopify/{kind}/{number}"


_GID = re.compile(r"^gid://shopify/([A-Za-z]+)/([0-9]+)(?:\?.*)?$")


def from_gid(value: Any, kind: str) -> int | None:
    """The numeric id of `gid://shopify/<kind>/<n>`, None when it is not one of that kind."""
    match = _GID.match(str(value or ""))
    if match is None or match.group(1) != kind:
        return None
    return int(match.group(2))


# --------------------------------------------------------------------------- cost bucket


@dataclass
class CostBucket:
    """Shopify's GraphQL leaky bucket: points available, refilled at `restore_rate` a second."""

    maximum: float = MAX_AVAILABLE
    restore_rate: float = RESTORE_RATE
    clock: Callable[[], float] = time.monotonic
    enabled: bool = True
    available: float = MAX_AVAILABLE
    updated: float | None = None

    def _refill(self) -> None:
        now = self.clock()
        if self.updated is not None:
            self.available = min(self.maximum, self.available + (now - self.updated) * self.restore_rate)
        self.updated = now

    def take(self, cost: int) -> bool:
        if not self.enabled:
            return True
        self._refill()
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def give_back(self, points: int) -> None:
        if self.enabled and points > 0:
            self.available = min(self.maximum, self.available + points)

    def status(self) -> JSON:
        if self.enabled:
            self._refill()
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": math.floor(self.available if self.enabled else self.maximum),
            "restoreRate": self.restore_rate,
        }


def configure_cost_bucket(
    app: FastAPI,
    *,
    maximum: float = MAX_AVAILABLE,
    restore_rate: float = RESTORE_RATE,
    clock: Callable[[], float] = time.monotonic,
    enabled: bool = True,
) -> CostBucket:
    """Replace the app's GraphQL cost bucket (a fake clock for tests; `enabled=False` for bulk evals)."""
    bucket = CostBucket(
        maximum=maximum, restore_rate=restore_rate, clock=clock, enabled=enabled, available=maximum
    )
    app.state.shopify_cost_bucket = bucket
    return bucket


@lru_cache(maxsize=256)
def _checked(query: str) -> DocumentNode | tuple[GraphQLError, ...]:
    """The query parsed and validated against the schema, or its errors. A client sends the same
    few query texts over and over, and validating a document is milliseconds of pure work: done
    once per text (documents are not changed by execution)."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        return (exc,)
    problems = validate(schema(), document)
    return tuple(problems) if problems else document


def _bucket(request: Request) -> CostBucket:
    bucket = getattr(request.app.state, "shopify_cost_bucket", None)
    if not isinstance(bucket, CostBucket):
        bucket = configure_cost_bucket(request.app)
    return bucket


# --------------------------------------------------------------------------- query cost


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _argument(node: FieldNode, name: str, variables: JSON) -> Any:
    for argument in node.arguments or ():
        if argument.name.value == name:
            return value_from_ast_untyped(argument.value, variables)
    return None


def _page_size(node: FieldNode, variables: JSON) -> int:
    size = _argument(node, "first", variables) or _argument(node, "last", variables)
    return int(size) if isinstance(size, int) and size > 0 else DEFAULT_PAGE


def selection_cost(
    selection_set: SelectionSetNode | None,
    parent: GraphQLObjectType,
    fragments: dict[str, FragmentDefinitionNode],
    variables: JSON,
    data: Any = None,
    actual: bool = False,
) -> int:
    """Shopify's cost rules: scalars and enums 0, objects 1, connections 2 plus their page size
    (`first`) times a node's cost. `actual` walks the answer (`data`) instead, counting what came back."""
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                total += selection_cost(fragment.selection_set, parent, fragments, variables, data, actual)
            continue
        if isinstance(selection, InlineFragmentNode):
            total += selection_cost(selection.selection_set, parent, fragments, variables, data, actual)
            continue
        if not isinstance(selection, FieldNode):
            continue
        definition = parent.fields.get(selection.name.value)
        if definition is None:
            continue
        named = get_named_type(definition.type)
        if is_leaf_type(named) or not isinstance(named, GraphQLObjectType):
            continue
        key = selection.alias.value if selection.alias else selection.name.value
        value = data.get(key) if isinstance(data, dict) else None
        if actual and value is None:
            continue
        is_list = isinstance(_unwrap_non_null(definition.type), GraphQLList)
        if named.name.endswith("Connection"):
            total += 2 + _connection_cost(selection, named, fragments, variables, value, actual)
        elif is_list:
            items = value if actual and isinstance(value, list) else [None] * _page_size(selection, variables)
            total += sum(
                1 + selection_cost(selection.selection_set, named, fragments, variables, item, actual)
                for item in items
            )
        else:
            total += 1 + selection_cost(selection.selection_set, named, fragments, variables, value, actual)
    return total


def _unwrap_non_null(kind: Any) -> Any:
    return kind.of_type if isinstance(kind, GraphQLNonNull) else kind


def _connection_cost(
    node: FieldNode,
    connection: GraphQLObjectType,
    fragments: dict[str, FragmentDefinitionNode],
    variables: JSON,
    value: Any,
    actual: bool,
) -> int:
    """A page's nodes: the cost of one node (under `nodes` or `edges { node }`) times the page size."""
    if actual:
        return selection_cost(node.selection_set, connection, fragments, variables, value, actual=True)
    per_node = selection_cost(node.selection_set, connection, fragments, variables)
    # `nodes` / `edges` are lists counted once in `per_node` (as one item): scale to the page.
    return per_node * _page_size(node, variables)


def requested_cost(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: JSON
) -> int:
    root = schema.mutation_type if operation.operation.value == "mutation" else schema.query_type
    assert root is not None
    cost = selection_cost(operation.selection_set, root, _fragments(document), variables)
    return cost + (MUTATION_COST if operation.operation.value == "mutation" else 0)


def actual_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: JSON,
    data: Any,
) -> int:
    root = schema.mutation_type if operation.operation.value == "mutation" else schema.query_type
    assert root is not None
    cost = selection_cost(operation.selection_set, root, _fragments(document), variables, data or {}, True)
    return cost + (MUTATION_COST if operation.operation.value == "mutation" else 0)


# --------------------------------------------------------------------------- shapes


def bag(amount: Any, currency: str) -> JSON:
    value = {"amount": money(store.dec(amount)), "currencyCode": currency}
    return {"shopMoney": value, "presentmentMoney": dict(value)}


def _upper(value: Any) -> str | None:
    return str(value).upper() if value else None


def _connection(items: list[Any], args: JSON) -> JSON:
    """A page of `items` (cursor = position) as Shopify's connection: edges, nodes, pageInfo."""
    start = 0
    after = args.get("after")
    if after:
        try:
            start = int(base64.b64decode(str(after)).decode().removeprefix("cursor:")) + 1
        except (ValueError, binascii.Error):
            raise GraphQLError("Invalid cursor for current pagination sort.") from None
    size = args.get("first") or args.get("last")
    if size is not None and (size < 0 or size > 250):
        raise GraphQLError("The value of first/last must be between 0 and 250.")
    page = items[start : start + size] if size is not None else items[start:]
    cursors = [base64.b64encode(f"cursor:{start + i}".encode()).decode() for i in range(len(page))]
    return {
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, page, strict=True)],
        "nodes": page,
        "pageInfo": {
            "hasNextPage": start + len(page) < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


def _address(address: JSON | None) -> JSON | None:
    if not address:
        return None
    return {
        "firstName": address.get("first_name"),
        "lastName": address.get("last_name"),
        "name": address.get("name"),
        "company": address.get("company"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "province": address.get("province"),
        "provinceCode": address.get("province_code"),
        "zip": address.get("zip"),
        "country": address.get("country"),
        "countryCodeV2": address.get("country_code"),
        "phone": address.get("phone"),
    }


def _tags(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [t.strip() for t in str(value or "").split(",") if t.strip()]


def _tax_lines(lines: list[JSON] | None, currency: str) -> list[JSON]:
    return [
        {"title": t.get("title"), "rate": t.get("rate"), "priceSet": bag(t.get("price"), currency)}
        for t in lines or []
    ]


def _allocations(order: JSON, allocations: list[JSON] | None, currency: str) -> list[JSON]:
    applications = order.get("discount_applications") or []
    result = []
    for allocation in allocations or []:
        index = allocation.get("discount_application_index")
        application = applications[index] if isinstance(index, int) and index < len(applications) else {}
        result.append(
            {
                "allocatedAmountSet": bag(allocation.get("amount"), currency),
                "discountApplication": {
                    "index": index if isinstance(index, int) else 0,
                    "allocationMethod": _upper(application.get("allocation_method")) or "ACROSS",
                    "targetSelection": _upper(application.get("target_selection")) or "ALL",
                    "targetType": _upper(application.get("target_type")) or "LINE_ITEM",
                },
            }
        )
    return result


class OrderView:
    """One World order (a Shopify resource record) seen through the GraphQL schema."""

    def __init__(self, world: World, order: JSON) -> None:
        self.world = world
        self.order = order
        self.currency = str(order.get("currency") or world.shopify.currency)

    def transaction(self, record: JSON, by_id: dict[int, JSON] | None = None) -> JSON:
        parent_id = record.get("parent_id")
        parent = None
        if parent_id is not None:
            known = by_id if by_id is not None else self._transactions_by_id()
            if parent_id in known:
                parent = self.transaction(known[parent_id], known)
        return {
            "id": gid("OrderTransaction", record["id"]),
            "kind": str(record.get("kind") or "sale").upper(),
            "status": str(record.get("status") or "success").upper(),
            "gateway": record.get("gateway"),
            "amountSet": bag(record.get("amount"), str(record.get("currency") or self.currency)),
            "createdAt": record.get("created_at"),
            "processedAt": record.get("processed_at"),
            "errorCode": record.get("error_code"),
            "parentTransaction": parent,
        }

    def _transactions_by_id(self) -> dict[int, JSON]:
        return {t["id"]: t for t in self.world.shopify.transactions.get(self.order["id"], [])}

    def line_item(self, line: JSON) -> JSON:
        refunded = store.units_refunded(self.order).get(line["id"], 0)
        quantity = int(line.get("quantity") or 0)
        discount = store.line_discount(line)
        product_id = line.get("product_id")
        product = self.world.shopify.products.get(int(product_id)) if product_id else None
        unit = store.dec(line.get("price"))
        return {
            "id": gid("LineItem", line["id"]),
            "name": line.get("name") or line.get("title") or "",
            "title": line.get("title") or "",
            "variantTitle": line.get("variant_title"),
            "sku": line.get("sku"),
            "quantity": quantity,
            "currentQuantity": int(line.get("current_quantity", quantity - refunded)),
            "refundableQuantity": max(0, quantity - refunded),
            "unfulfilledQuantity": int(line.get("fulfillable_quantity") or 0),
            "requiresShipping": bool(line.get("requires_shipping", True)),
            "originalUnitPriceSet": bag(unit, self.currency),
            "discountedUnitPriceSet": bag((unit - discount / quantity) if quantity else unit, self.currency),
            "totalDiscountSet": bag(discount, self.currency),
            "discountAllocations": _allocations(self.order, line.get("discount_allocations"), self.currency),
            "taxLines": _tax_lines(line.get("tax_lines"), self.currency),
            "product": _product(product) if product else None,
            "_product_id": product_id,
        }

    def node(self) -> JSON:
        order, currency = self.order, self.currency
        lines = {line["id"]: self.line_item(line) for line in order.get("line_items", [])}
        by_id = self._transactions_by_id()
        transactions = self.world.shopify.transactions.get(order["id"], [])
        refunded = sum(
            (
                store.dec(t.get("amount"))
                for t in transactions
                if t.get("kind") == "refund" and t.get("status") == "success"
            ),
            Decimal("0"),
        )
        fulfillment_status = order.get("fulfillment_status")
        shipping_total = store.shipping_charged(order)
        return {
            "id": gid("Order", order["id"]),
            "legacyResourceId": str(order["id"]),
            "name": order.get("name") or f"#{order.get('order_number')}",
            "email": order.get("email"),
            "createdAt": order.get("created_at"),
            "processedAt": order.get("processed_at") or order.get("created_at"),
            "updatedAt": order.get("updated_at") or order.get("created_at"),
            "cancelledAt": order.get("cancelled_at"),
            "cancelReason": _upper(order.get("cancel_reason")),
            "closedAt": order.get("closed_at"),
            "closed": order.get("closed_at") is not None,
            "displayFinancialStatus": _upper(order.get("financial_status")),
            "displayFulfillmentStatus": {"fulfilled": "FULFILLED", "partial": "PARTIALLY_FULFILLED"}.get(
                str(fulfillment_status), "UNFULFILLED"
            ),
            "currencyCode": currency,
            "totalPriceSet": bag(order.get("total_price"), currency),
            "subtotalPriceSet": bag(order.get("subtotal_price"), currency),
            "totalTaxSet": bag(order.get("total_tax"), currency),
            "totalDiscountsSet": bag(order.get("total_discounts"), currency),
            "totalShippingPriceSet": bag(shipping_total, currency),
            "totalRefundedSet": bag(refunded, currency),
            "currentTotalPriceSet": bag(order.get("current_total_price", order.get("total_price")), currency),
            "note": order.get("note"),
            "tags": _tags(order.get("tags")),
            "customAttributes": [
                {"key": str(a.get("name")), "value": a.get("value")}
                for a in order.get("note_attributes") or []
            ],
            "paymentGatewayNames": list(order.get("payment_gateway_names") or []),
            "shippingAddress": _address(order.get("shipping_address")),
            "billingAddress": _address(order.get("billing_address")),
            "customer": _customer(self.world, order.get("customer")),
            "lineItems": list(lines.values()),
            "shippingLines": [
                {
                    "id": gid("ShippingLine", line["id"]) if line.get("id") else None,
                    "title": line.get("title") or "",
                    "code": line.get("code"),
                    "originalPriceSet": bag(line.get("price"), currency),
                    "discountedPriceSet": bag(
                        line["discounted_price"]
                        if line.get("discounted_price") is not None
                        else store.shipping_price(line),
                        currency,
                    ),
                    "discountAllocations": _allocations(order, line.get("discount_allocations"), currency),
                    "taxLines": _tax_lines(line.get("tax_lines"), currency),
                }
                for line in order.get("shipping_lines", [])
            ],
            "fulfillments": [self._fulfillment(f, lines) for f in order.get("fulfillments", [])],
            "refunds": [self._refund(r, lines, by_id) for r in order.get("refunds", [])],
            "transactions": [self.transaction(t, by_id) for t in transactions],
            "current_view": self,
        }

    def _fulfillment(self, record: JSON, lines: dict[int, JSON]) -> JSON:
        shipment = record.get("shipment_status")
        numbers = list(record.get("tracking_numbers") or [])
        if record.get("tracking_number") and record["tracking_number"] not in numbers:
            numbers.insert(0, record["tracking_number"])
        urls = list(record.get("tracking_urls") or [])
        if record.get("tracking_url") and record["tracking_url"] not in urls:
            urls.insert(0, record["tracking_url"])
        delivered = shipment == "delivered"
        return {
            "id": gid("Fulfillment", record["id"]),
            "legacyResourceId": str(record["id"]),
            "name": str(record.get("name") or f"{self.order.get('name')}-F1"),
            "status": str(record.get("status") or "success").upper(),
            "displayStatus": str(shipment).upper() if shipment else "FULFILLED",
            "createdAt": record.get("created_at"),
            "updatedAt": record.get("updated_at") or record.get("created_at"),
            "inTransitAt": None,
            "deliveredAt": (record.get("updated_at") or record.get("created_at")) if delivered else None,
            "trackingInfo": [
                {
                    "company": record.get("tracking_company"),
                    "number": number,
                    "url": urls[i] if i < len(urls) else None,
                }
                for i, number in enumerate(numbers)
            ],
            "fulfillmentLineItems": [
                {
                    "id": gid("FulfillmentLineItem", item["id"]),
                    "quantity": item.get("quantity"),
                    "lineItem": lines.get(item["id"]) or self.line_item(item),
                }
                for item in record.get("line_items", [])
            ],
        }

    def _refund(self, record: JSON, lines: dict[int, JSON], by_id: dict[int, JSON]) -> JSON:
        transactions = record.get("transactions") or []
        total = sum(
            (
                store.dec(t.get("amount"))
                for t in transactions
                if t.get("kind") == "refund" and t.get("status") in (None, "success")
            ),
            Decimal("0"),
        )
        return {
            "id": gid("Refund", record["id"]),
            "legacyResourceId": str(record["id"]),
            "createdAt": record.get("created_at"),
            "note": record.get("note"),
            "totalRefundedSet": bag(total, self.currency),
            "refundLineItems": [
                {
                    "id": gid("RefundLineItem", item["id"]) if item.get("id") else None,
                    "lineItem": lines.get(item["line_item_id"])
                    or self.line_item(item.get("line_item") or {"id": item["line_item_id"]}),
                    "quantity": int(item.get("quantity") or 0),
                    "restockType": str(item.get("restock_type") or "no_restock").upper(),
                    "restocked": item.get("restock_type") not in (None, "no_restock"),
                    "subtotalSet": bag(item.get("subtotal"), self.currency),
                    "totalTaxSet": bag(item.get("total_tax"), self.currency),
                    "priceSet": bag((item.get("line_item") or {}).get("price"), self.currency),
                }
                for item in record.get("refund_line_items", [])
            ],
            "refundShippingLines": [
                {
                    "subtotalAmountSet": bag(-store.dec(a.get("amount")), self.currency),
                    "taxAmountSet": bag(-store.dec(a.get("tax_amount")), self.currency),
                }
                for a in record.get("order_adjustments", [])
                if a.get("kind") == "shipping_refund"
            ],
            "transactions": [self.transaction(t, by_id) for t in transactions],
        }


def _customer(world: World, customer: JSON | None) -> JSON | None:
    if not customer or customer.get("id") is None:
        return None
    full = world.shopify.customers.get(int(customer["id"])) or customer
    first, last = full.get("first_name"), full.get("last_name")
    return {
        "id": gid("Customer", full["id"]),
        "legacyResourceId": str(full["id"]),
        "email": full.get("email"),
        "firstName": first,
        "lastName": last,
        "displayName": " ".join(p for p in (first, last) if p) or str(full.get("email") or ""),
        "phone": full.get("phone"),
    }


def _product(product: JSON) -> JSON:
    return {
        "id": gid("Product", product["id"]),
        "legacyResourceId": str(product["id"]),
        "title": product.get("title") or "",
        "handle": product.get("handle") or "",
        "tags": _tags(product.get("tags")),
    }


def _hook(hook: JSON) -> JSON:
    return {
        "id": gid("WebhookSubscription", hook["id"]),
        "legacyResourceId": str(hook["id"]),
        "topic": topic_enum(str(hook["topic"])),
        "uri": hook["address"],
        "endpoint": _endpoint(str(hook["address"])),
        "filter": hook.get("filter") or None,
        "format": str(hook.get("format") or "json").upper(),
        "apiVersion": {"handle": str(hook.get("api_version") or "")},
        "createdAt": hook.get("created_at"),
        "updatedAt": hook.get("updated_at"),
    }


def _endpoint(address: str) -> JSON:
    if address.startswith("arn:aws:events:"):
        return {"__typename": "WebhookEventBridgeEndpoint", "arn": address}
    if address.startswith("pubsub://"):
        project, _, topic = address.removeprefix("pubsub://").partition(":")
        return {"__typename": "WebhookPubSubEndpoint", "pubSubProject": project, "pubSubTopic": topic}
    return {"__typename": "WebhookHttpEndpoint", "callbackUrl": address}


def topic_enum(topic: str) -> str:
    """`orders/updated` -> `ORDERS_UPDATED`."""
    return topic.replace("/", "_").upper()


def topic_path(enum: str) -> str | None:
    """`ORDERS_UPDATED` -> `orders/updated` (None when Shopify has no such topic)."""
    for topic in WEBHOOK_TOPICS:
        if topic_enum(topic) == enum:
            return topic
    return None


# --------------------------------------------------------------------------- context and errors


@dataclass
class Context:
    world: World
    request: Request
    version: str


def _ctx(info: GraphQLResolveInfo) -> Context:
    context: Context = info.context
    return context


def _require(info: GraphQLResolveInfo, scope: str) -> None:
    """Shopify's ACCESS_DENIED for a field the token's scopes do not reach."""
    if scope not in granted_scopes(_ctx(info).world.shopify.access_scopes):
        raise GraphQLError(
            f"Access denied for {info.field_name} field. Required access: `{scope}` access scope.",
            extensions={
                "code": "ACCESS_DENIED",
                "documentation": ACCESS_SCOPES_DOC,
                "requiredAccess": f"`{scope}` access scope.",
            },
        )


def _user_errors(exc: store.ShopifyError) -> list[JSON]:
    """A store refusal (`{"field": ["message"]}`) as GraphQL user errors."""
    errors = exc.errors if isinstance(exc.errors, dict) else {"base": [str(exc.errors)]}
    result = []
    for field_name, messages in errors.items():
        for message in messages if isinstance(messages, list) else [messages]:
            path = None if field_name == "base" else [_camel(field_name)]
            result.append({"field": path, "message": str(message)})
    return result


def _camel(name: str) -> str:
    head, *rest_ = name.split("_")
    return head + "".join(part.title() for part in rest_)


# --------------------------------------------------------------------------- order search


def _search_terms(query: str) -> list[tuple[str, str, str]]:
    """`name:#1001 email:"a@b.c" created_at:>=2026-01-01` -> [(field, comparator, value)]."""
    terms = []
    for match in re.finditer(r'(-?[a-z_]+):(>=|<=|>|<)?("[^"]*"|\S+)|("[^"]*"|\S+)', query):
        if match.group(1):
            terms.append((match.group(1), match.group(2) or "", match.group(3).strip('"')))
        elif match.group(4).upper() not in ("AND",):
            terms.append(("", "", match.group(4).strip('"')))
    return terms


def _compare(left: Any, comparator: str, right: Any) -> bool:
    match comparator:
        case ">":
            return bool(left > right)
        case ">=":
            return bool(left >= right)
        case "<":
            return bool(left < right)
        case "<=":
            return bool(left <= right)
    return bool(left == right)


def _time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _matches(order: JSON, terms: list[tuple[str, str, str]], warnings: list[JSON]) -> bool:
    for field_name, comparator, value in terms:
        negate = field_name.startswith("-")
        name = field_name.removeprefix("-")
        if name == "name":
            ok = str(order.get("name", "")).lstrip("#").lower() == value.lstrip("#").lower()
        elif name == "email":
            ok = str(order.get("email") or "").lower() == value.lower()
        elif name == "id":
            ok = _compare(int(order["id"]), comparator, int(value)) if value.isdigit() else False
        elif name in ("created_at", "updated_at", "processed_at"):
            try:
                ok = _compare(_time(order.get(name) or order.get("created_at")), comparator, _time(value))
            except ValueError:
                ok = False
        elif name == "status":
            cancelled, closed = order.get("cancelled_at") is not None, order.get("closed_at") is not None
            ok = {
                "any": True,
                "open": not closed and not cancelled,
                "closed": closed,
                "cancelled": cancelled,
            }.get(value.lower(), False)
        elif name == "financial_status":
            ok = str(order.get("financial_status") or "").lower() == value.lower()
        elif name == "tag":
            ok = value.lower() in [t.lower() for t in _tags(order.get("tags"))]
        elif name == "customer_id":
            ok = str((order.get("customer") or {}).get("id")) == value
        elif name == "":
            text = " ".join(str(order.get(k) or "") for k in ("name", "email")).lower()
            ok = value.lower().lstrip("#") in text
        else:
            warnings.append({"field": name, "message": "Invalid search field for this query."})
            continue
        if ok == negate:
            return False
    return True


_SORT_KEYS: dict[str, Callable[[JSON], Any]] = {
    "ID": lambda o: int(o["id"]),
    "ORDER_NUMBER": lambda o: int(o.get("order_number") or 0),
    "CREATED_AT": lambda o: (str(o.get("created_at") or ""), int(o["id"])),
    "PROCESSED_AT": lambda o: (str(o.get("processed_at") or o.get("created_at") or ""), int(o["id"])),
    "UPDATED_AT": lambda o: (str(o.get("updated_at") or ""), int(o["id"])),
    "TOTAL_PRICE": lambda o: (store.dec(o.get("total_price")), int(o["id"])),
}


# --------------------------------------------------------------------------- resolvers: queries


def resolve_order(_: Any, info: GraphQLResolveInfo, id: str) -> JSON | None:
    _require(info, "read_orders")
    world = _ctx(info).world
    number = from_gid(id, "Order")
    order = world.shopify.orders.get(number) if number is not None else None
    if order is None or not store.within_history(world, order):
        return None
    return OrderView(world, store.current_view(world, order)).node()


def resolve_orders(_: Any, info: GraphQLResolveInfo, **args: Any) -> JSON:
    _require(info, "read_orders")
    world = _ctx(info).world
    warnings: list[JSON] = []
    terms = _search_terms(str(args.get("query") or ""))
    matching = [
        o
        for o in world.shopify.orders.values()
        if store.within_history(world, o) and _matches(o, terms, warnings)
    ]
    key = _SORT_KEYS.get(str(args.get("sortKey") or "ID"), _SORT_KEYS["ID"])
    matching.sort(key=key, reverse=bool(args.get("reverse")))
    if warnings:
        _ctx(info).request.state.shopify_search_warnings = warnings
    page = _connection(matching, args)
    views = [OrderView(world, store.current_view(world, o)).node() for o in page["nodes"]]
    page["nodes"] = views
    for edge, view in zip(page["edges"], views, strict=True):
        edge["node"] = view
    return page


def resolve_product(_: Any, info: GraphQLResolveInfo, id: str) -> JSON | None:
    _require(info, "read_products")
    number = from_gid(id, "Product")
    product = _ctx(info).world.shopify.products.get(number) if number is not None else None
    return _product(product) if product else None


def resolve_job(_: Any, info: GraphQLResolveInfo, id: str) -> JSON | None:
    match = re.match(r"^gid://shopify/Job/([0-9a-f-]+)$", id)
    job = _ctx(info).world.shopify_consistency.jobs.get(match.group(1)) if match else None
    return {"id": id, "done": bool(job["done"])} if job else None


def resolve_installation(_: Any, info: GraphQLResolveInfo) -> JSON:
    scopes = _ctx(info).world.shopify.access_scopes
    return {
        "id": gid("AppInstallation", 1),
        "accessScopes": [{"handle": h, "description": None} for h in scopes],
    }


def resolve_webhook_subscriptions(_: Any, info: GraphQLResolveInfo, **args: Any) -> JSON:
    hooks = sorted(_ctx(info).world.shopify.webhooks.values(), key=lambda h: int(h["id"]))
    topics = args.get("topics")
    uri = args.get("uri") or args.get("callbackUrl")
    matching = [
        _hook(h)
        for h in hooks
        if (not topics or topic_enum(str(h["topic"])) in topics) and (not uri or h["address"] == uri)
    ]
    return _connection(matching, args)


def resolve_suggested_refund(order: JSON, info: GraphQLResolveInfo, **args: Any) -> JSON | None:
    view: OrderView = order["current_view"]
    world, record = view.world, view.order
    request: JSON = {}
    if args.get("suggestFullRefund"):
        request = store.full_refund_request(world, record, note="")
        request.pop("transactions", None)
        request["refund_line_items"] = [
            {**line, "restock_type": "no_restock"} for line in request["refund_line_items"]
        ]
    else:
        items = []
        for item in args.get("refundLineItems") or []:
            line_id = from_gid(item.get("lineItemId"), "LineItem")
            if line_id is None:
                raise GraphQLError(f"Invalid id: {item.get('lineItemId')}", extensions={"code": "NOT_FOUND"})
            items.append(
                {
                    "line_item_id": line_id,
                    "quantity": item.get("quantity"),
                    "restock_type": str(item.get("restockType") or "NO_RESTOCK").lower(),
                }
            )
        request["refund_line_items"] = items
        if args.get("refundShipping"):
            request["shipping"] = {"full_refund": True}
        elif args.get("shippingAmount") is not None:
            request["shipping"] = {"amount": str(args["shippingAmount"])}
    try:
        suggestion = store.suggest_refund(world, record, request)
    except store.ShopifyError as exc:
        raise GraphQLError("; ".join(m["message"] for m in _user_errors(exc))) from None
    currency = view.currency
    by_id = {t["id"]: t for t in world.shopify.transactions.get(record["id"], [])}
    lines = {line["id"]: view.line_item(line) for line in record.get("line_items", [])}
    transactions = suggestion["transactions"]
    amount = sum((store.dec(t["amount"]) for t in transactions), Decimal("0"))
    maximum = sum((store.dec(t["maximum_refundable"]) for t in transactions), Decimal("0"))
    items = suggestion["refund_line_items"]
    return {
        "amountSet": bag(amount, currency),
        "maximumRefundableSet": bag(maximum, currency),
        "subtotalSet": bag(sum((store.dec(i["subtotal"]) for i in items), Decimal("0")), currency),
        "totalTaxSet": bag(sum((store.dec(i["total_tax"]) for i in items), Decimal("0")), currency),
        "shipping": {
            "amountSet": bag(suggestion["shipping"]["amount"], currency),
            "maximumRefundableSet": bag(suggestion["shipping"]["maximum_refundable"], currency),
            "taxSet": bag(suggestion["shipping"]["tax"], currency),
        },
        "refundLineItems": [
            {
                "id": None,
                "lineItem": lines[item["line_item_id"]],
                "quantity": item["quantity"],
                "restockType": str(item["restock_type"]).upper(),
                "restocked": False,
                "subtotalSet": bag(item["subtotal"], currency),
                "totalTaxSet": bag(item["total_tax"], currency),
                "priceSet": bag(item["price"], currency),
            }
            for item in items
        ],
        "suggestedTransactions": [
            {
                "amountSet": bag(t["amount"], currency),
                "maximumRefundableSet": bag(t["maximum_refundable"], currency),
                "gateway": t.get("gateway"),
                "kind": "SUGGESTED_REFUND",
                "parentTransaction": view.transaction(by_id[t["parent_id"]], by_id),
            }
            for t in transactions
        ],
    }


# --------------------------------------------------------------------------- resolvers: mutations


def _writable_order(info: GraphQLResolveInfo, order_gid: Any) -> JSON | None:
    _require(info, "write_orders")
    world = _ctx(info).world
    number = from_gid(order_gid, "Order")
    order = world.shopify.orders.get(number) if number is not None else None
    if order is None or not store.within_history(world, order):
        return None
    return order


def _order_node(world: World, order: JSON) -> JSON:
    return OrderView(world, order).node()


def resolve_order_update(_: Any, info: GraphQLResolveInfo, input: JSON) -> JSON:
    context = _ctx(info)
    order = _writable_order(info, input.get("id"))
    if order is None:
        return {"order": None, "userErrors": [{"field": ["id"], "message": "Order does not exist"}]}
    try:
        address = None
        if input.get("shippingAddress") is not None:
            given = input["shippingAddress"]
            address = store.new_shipping_address(
                order,
                {
                    "first_name": given.get("firstName"),
                    "last_name": given.get("lastName"),
                    "company": given.get("company"),
                    "address1": given.get("address1"),
                    "address2": given.get("address2"),
                    "city": given.get("city"),
                    "province_code": given.get("provinceCode"),
                    "zip": given.get("zip"),
                    "country_code": given.get("countryCode"),
                    "phone": given.get("phone"),
                },
            )
            address = {k: v for k, v in address.items() if v is not None or k in ("address2", "company")}
    except store.ShopifyError as exc:
        return {"order": None, "userErrors": _user_errors(exc)}
    if address is not None:
        order["shipping_address"] = address
    if "note" in input:
        order["note"] = input["note"]
    if input.get("tags") is not None:
        order["tags"] = ", ".join(input["tags"])
    if input.get("email") is not None:
        order["email"] = input["email"]
    if input.get("customAttributes") is not None:
        order["note_attributes"] = [
            {"name": a["key"], "value": a["value"]} for a in input["customAttributes"]
        ]
    order["updated_at"] = context.world.now_iso()
    webhooks.emit(context.request, "orders/updated", order)
    return {"order": _order_node(context.world, order), "userErrors": []}


def resolve_refund_create(_: Any, info: GraphQLResolveInfo, input: JSON) -> JSON:
    context = _ctx(info)
    order = _writable_order(info, input.get("orderId"))
    if order is None:
        return {
            "order": None,
            "refund": None,
            "userErrors": [{"field": ["orderId"], "message": "Order does not exist"}],
        }
    request: JSON = {"note": input.get("note"), "refund_line_items": [], "transactions": []}
    errors: list[JSON] = []
    for index, item in enumerate(input.get("refundLineItems") or []):
        line_id = from_gid(item.get("lineItemId"), "LineItem")
        if line_id is None:
            errors.append({"field": ["refundLineItems", str(index), "lineItemId"], "message": "Invalid id"})
            continue
        request["refund_line_items"].append(
            {
                "line_item_id": line_id,
                "quantity": item.get("quantity"),
                "restock_type": str(item.get("restockType") or "NO_RESTOCK").lower(),
                "location_id": from_gid(item.get("locationId"), "Location"),
            }
        )
    for index, transaction in enumerate(input.get("transactions") or []):
        parent = from_gid(transaction.get("parentId"), "OrderTransaction")
        if transaction.get("orderId") != input.get("orderId"):
            errors.append(
                {
                    "field": ["transactions", str(index), "orderId"],
                    "message": "Order ID must match the refund's order",
                }
            )
        request["transactions"].append(
            {
                "parent_id": parent,
                "amount": str(transaction.get("amount")),
                "kind": str(transaction.get("kind") or "").lower(),
                "gateway": transaction.get("gateway"),
            }
        )
    shipping = input.get("shipping") or {}
    if shipping.get("fullRefund"):
        request["shipping"] = {"full_refund": True}
    elif shipping.get("amount") is not None:
        request["shipping"] = {"amount": str(shipping["amount"])}
    if errors:
        return {"order": None, "refund": None, "userErrors": errors}
    try:
        record = store.apply_refund(context.world, order, request)
    except store.ShopifyError as exc:
        return {"order": None, "refund": None, "userErrors": _user_errors(exc)}
    webhooks.emit(context.request, "refunds/create", record)
    webhooks.emit(context.request, "orders/updated", order)
    node = _order_node(context.world, order)
    refund = next(r for r in node["refunds"] if r["id"] == gid("Refund", record["id"]))
    return {"order": node, "refund": refund, "userErrors": []}


def resolve_order_cancel(_: Any, info: GraphQLResolveInfo, **args: Any) -> JSON:
    context = _ctx(info)
    order = _writable_order(info, args.get("orderId"))

    def refused(message: str, code: str, field: list[str] | None = None) -> JSON:
        error = {"field": field, "message": message}
        return {
            "job": None,
            "jobResult": None,
            "orderCancelUserErrors": [{**error, "code": code}],
            "userErrors": [error],
        }

    if order is None:
        return refused("Order does not exist", "NOT_FOUND", ["orderId"])
    try:
        store.check_cancellable(order)
    except store.ShopifyError as exc:
        return refused(_user_errors(exc)[0]["message"], "INVALID")
    method = args.get("refundMethod") or {}
    refund = bool(method.get("originalPaymentMethodsRefund")) if method else bool(args.get("refund"))
    job_id = str(uuid.UUID(int=context.world.new_int_id()))
    context.world.shopify_consistency.jobs[job_id] = {
        "order_id": order["id"],
        "reason": str(args["reason"]).lower(),
        "refund": refund,
        "staff_note": args.get("staffNote"),
        "done": False,
    }
    job = {"id": gid("Job", job_id), "done": False}
    result = {**job, "status": "IN_PROGRESS", "errors": [], "order": None}
    return {"job": job, "jobResult": result, "orderCancelUserErrors": [], "userErrors": []}


def run_pending_jobs(world: World, request: Request) -> None:
    """Shopify's background jobs: a pending cancellation is carried out (or fails silently, as a
    job does, when the order changed meanwhile) before the next call is answered."""
    for job in world.shopify_consistency.jobs.values():
        if job["done"]:
            continue
        job["done"] = True
        order = world.shopify.orders.get(job["order_id"])
        if order is None:
            continue
        try:
            refunded = store.cancel(world, order, reason=job["reason"], refund=job["refund"])
        except store.ShopifyError:
            continue
        if job.get("staff_note"):  # on Shopify it shows in the order's timeline, not in its note
            order["cancel_staff_note"] = job["staff_note"]
        if refunded is not None:
            webhooks.emit(request, "refunds/create", refunded)
        webhooks.emit(request, "orders/cancelled", order)
        webhooks.emit(request, "orders/updated", order)


def resolve_webhook_create(_: Any, info: GraphQLResolveInfo, topic: str, webhookSubscription: JSON) -> JSON:
    context = _ctx(info)
    world = context.world
    path = topic_path(topic)
    address = str(webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl") or "")

    def refused(field: list[str], message: str) -> JSON:
        return {"webhookSubscription": None, "userErrors": [{"field": field, "message": message}]}

    if path is None:
        return refused(["topic"], f"Invalid topic: {topic}")
    scope = WEBHOOK_TOPICS[path]
    if scope is not None:
        _require(info, scope)
    if not store.WEBHOOK_ADDRESS.match(address):
        return refused(["webhookSubscription", "uri"], "Address is invalid")
    if any(h["topic"] == path and h["address"] == address for h in world.shopify.webhooks.values()):
        return refused(["webhookSubscription", "uri"], "Address for this topic has already been taken")
    now = world.now_iso()
    hook_id = world.new_int_id()
    hook: JSON = {
        "id": hook_id,
        "address": address,
        "topic": path,
        "format": str(webhookSubscription.get("format") or "JSON").lower(),
        "filter": webhookSubscription.get("filter"),
        "fields": [],
        "metafield_namespaces": [],
        "api_version": context.version,
        "created_at": now,
        "updated_at": now,
    }
    world.shopify.webhooks[hook_id] = hook
    return {"webhookSubscription": _hook(hook), "userErrors": []}


def resolve_webhook_delete(_: Any, info: GraphQLResolveInfo, id: str) -> JSON:
    number = from_gid(id, "WebhookSubscription")
    if number is None or _ctx(info).world.shopify.webhooks.pop(number, None) is None:
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
        }
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


# --------------------------------------------------------------------------- schema


def _page_of(name: str) -> Callable[..., JSON]:
    def resolve(parent: JSON, _: GraphQLResolveInfo, **args: Any) -> JSON:
        return _connection(list(parent.get(name) or []), args)

    return resolve


def _first_of(name: str) -> Callable[..., list[Any]]:
    def resolve(parent: JSON, _: GraphQLResolveInfo, **args: Any) -> list[Any]:
        items = list(parent.get(name) or [])
        first = args.get("first")
        return items[:first] if isinstance(first, int) else items

    return resolve


@cache
def schema() -> GraphQLSchema:
    built = build_schema(SDL)
    resolvers: dict[str, dict[str, Callable[..., Any]]] = {
        "Query": {
            "order": resolve_order,
            "orders": resolve_orders,
            "product": resolve_product,
            "job": resolve_job,
            "currentAppInstallation": resolve_installation,
            "webhookSubscriptions": resolve_webhook_subscriptions,
        },
        "Mutation": {
            "orderUpdate": resolve_order_update,
            "refundCreate": resolve_refund_create,
            "orderCancel": resolve_order_cancel,
            "webhookSubscriptionCreate": resolve_webhook_create,
            "webhookSubscriptionDelete": resolve_webhook_delete,
        },
        "Order": {"suggestedRefund": resolve_suggested_refund},
    }
    endpoint = built.type_map["WebhookSubscriptionEndpoint"]
    assert isinstance(endpoint, GraphQLUnionType)
    endpoint.resolve_type = lambda value, _info, _type: value["__typename"]
    for type_name, kind in built.type_map.items():
        if not isinstance(kind, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, field in kind.fields.items():
            own = resolvers.get(type_name, {}).get(field_name)
            if own is not None:
                field.resolve = own
            elif type_name not in ("Query", "Mutation"):
                _default_resolver(field_name, field)
    return built


def _default_resolver(field_name: str, field: GraphQLField) -> None:
    named = get_named_type(field.type)
    if named.name.endswith("Connection"):
        field.resolve = _page_of(field_name)
    elif "first" in field.args:
        field.resolve = _first_of(field_name)


# --------------------------------------------------------------------------- the endpoint


router = APIRouter()

_UNDEFINED_FIELD = re.compile(r"^Cannot query field '([^']+)' on type '([^']+)'\.")


def _shopify_error(error: GraphQLError) -> JSON:
    """graphql-core's error in Shopify's words (its validation messages differ from graphql-ruby's)."""
    formatted: JSON = dict(error.formatted)
    match = _UNDEFINED_FIELD.match(error.message)
    if match:
        formatted["message"] = f"Field '{match.group(1)}' doesn't exist on type '{match.group(2)}'"
        formatted["extensions"] = {
            "code": "undefinedField",
            "typeName": match.group(2),
            "fieldName": match.group(1),
        }
    elif "extensions" not in formatted or not formatted["extensions"]:
        formatted.pop("extensions", None)
    return formatted


def _answer(body: JSON, request: Request, *, status: int = 200) -> JSONResponse:
    response = JSONResponse(body, status_code=status)
    version = getattr(request.state, "shopify_api_version", None)
    if version is not None:
        response.headers[API_VERSION_HEADER] = version
    events = webhooks.pending(request)
    if events and status < 400:
        world = request.app.state.world
        sender = webhooks.sender_of(request.app.state)
        response.background = BackgroundTask(webhooks.deliver, world, sender, events)
    return response


@router.post("/graphql.json", dependencies=[Depends(require_shopify)])
async def graphql_endpoint(api_version: str, request: Request, world: WorldDep) -> JSONResponse:
    # Shopify's rule at the world's clock: a retired version "falls forward" to the oldest supported
    # one; the answer names the version that served it.
    served = served_api_version(api_version, world.now())
    if served is None:
        return JSONResponse({"errors": "Not Found"}, status_code=404)
    request.state.shopify_api_version = served
    try:
        payload = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _answer({"errors": "Invalid JSON in request body"}, request, status=400)
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return _answer({"errors": {"query": "Required parameter missing or invalid"}}, request, status=400)
    variables = payload.get("variables") or {}
    if not isinstance(variables, dict):
        return _answer({"errors": {"variables": "must be an object"}}, request, status=400)
    built = schema()
    checked = _checked(payload["query"])
    if not isinstance(checked, DocumentNode):
        return _answer({"errors": [_shopify_error(e) for e in checked]}, request)
    document = checked
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    wanted = payload.get("operationName")
    operation = next(
        (o for o in operations if wanted is None or (o.name is not None and o.name.value == wanted)), None
    )
    if operation is None:
        return _answer({"errors": [{"message": f'No operation named "{wanted}"'}]}, request)
    cost = requested_cost(built, document, operation, variables)
    bucket = _bucket(request)
    if cost > MAX_QUERY_COST:
        message = f"Query cost is {cost}, which exceeds the single query max cost limit ({MAX_QUERY_COST})."
        error = {
            "message": message,
            "extensions": {
                "code": "MAX_COST_EXCEEDED",
                "cost": cost,
                "maxCost": MAX_QUERY_COST,
                "documentation": RATE_LIMITS_DOC,
            },
        }
        return _answer({"errors": [error]}, request)
    if not bucket.take(cost):
        throttled = {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": RATE_LIMITS_DOC},
        }
        refused: JSON = {
            "cost": {"requestedQueryCost": cost, "actualQueryCost": None, "throttleStatus": bucket.status()}
        }
        return _answer({"errors": [throttled], "extensions": refused}, request)
    run_pending_jobs(world, request)
    context = Context(world=world, request=request, version=request.state.shopify_api_version)
    result = graphql_execute(
        built,
        document,
        variable_values=variables,
        operation_name=wanted,
        context_value=context,
    )
    assert isinstance(result, ExecutionResult)
    data = result.data
    actual = actual_cost(built, document, operation, variables, data)
    bucket.give_back(cost - actual)
    body: JSON = {"data": data}
    if result.errors:
        body["errors"] = [_shopify_error(e) for e in result.errors]
    extensions: JSON = {
        "cost": {"requestedQueryCost": cost, "actualQueryCost": actual, "throttleStatus": bucket.status()}
    }
    warnings = getattr(request.state, "shopify_search_warnings", None)
    if warnings:
        extensions["search"] = [{"path": ["orders"], "query": "", "parsed": {}, "warnings": warnings}]
    body["extensions"] = extensions
    return _answer(body, request)


# Registered last: any other path under the versioned base is Shopify's 404, not FastAPI's.
@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"], include_in_schema=False)
async def unknown_route(path: str) -> JSONResponse:
    return JSONResponse({"errors": "Not Found"}, status_code=404)
