"""Shopify's GraphQL Admin API as its reference publishes it, reduced (written for these tests).

Sources (the examples of each reference page, as shown on shopify.dev):
- `refundCreate`: https://shopify.dev/docs/api/admin-graphql/latest/mutations/refundCreate
  (example "Create a refund": the `mutation M($input: RefundInput!)` with one line and one
  transaction against its parent);
- `orderCancel`: https://shopify.dev/docs/api/admin-graphql/unstable/mutations/orderCancel
  (example "Cancel an order": `job`, `jobResult`, `orderCancelUserErrors`);
- `webhookSubscriptionCreate`: https://shopify.dev/docs/api/admin-graphql/2024-10/mutations/webhookSubscriptionCreate
  (the `endpoint` union and `filter`) and .../2024-01/mutations/webhookSubscriptionCreate
  (ORDERS_CREATE with `apiVersion`, `format`, `createdAt`);
- `SuggestedRefund`: the fields of https://shopify.dev/docs/api/admin-graphql/2025-01/objects/suggestedrefund;
- a throttled answer: the example accepted in the Shopify Community thread "GraphQL Admin API -
  example Throttled request's response" (community.shopify.com, td-p/639510), with the figures of
  https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits (standard plan: 100 points a
  second) in the emulator.

Kept: the operation texts and variables as published (ids as published; the tests map them onto
the demo store). Dropped: the client-library wrappers around them (curl, Node, Ruby).
"""

from __future__ import annotations

from typing import Any

REFUND_CREATE = """mutation M($input: RefundInput!) {
  refundCreate(input: $input) {
    userErrors { field message }
    refund { id note totalRefundedSet { presentmentMoney { amount } } }
  }
}"""
REFUND_CREATE_VARIABLES: dict[str, Any] = {
    "input": {
        "orderId": "gid://shopify/Order/734509473",
        "note": "Want to exchange for a different item",
        "refundLineItems": [{"lineItemId": "gid://shopify/LineItem/25746870", "quantity": 2}],
        "transactions": [
            {
                "orderId": "gid://shopify/Order/734509473",
                "gateway": "foo",
                "kind": "REFUND",
                "amount": "10.0",
                "parentId": "gid://shopify/OrderTransaction/723599266",
            }
        ],
    }
}

ORDER_CANCEL = """mutation OrderCancel($orderId: ID!, $notifyCustomer: Boolean, $refund: Boolean!, $restock: Boolean!, $reason: OrderCancelReason!, $staffNote: String) {
  orderCancel(orderId: $orderId, notifyCustomer: $notifyCustomer, refund: $refund, restock: $restock, reason: $reason, staffNote: $staffNote) {
    job { id done }
    jobResult { id done }
    orderCancelUserErrors { field message code }
  }
}"""
ORDER_CANCEL_VARIABLES: dict[str, Any] = {
    "orderId": "gid://shopify/Order/148977776",
    "notifyCustomer": True,
    "refund": True,
    "restock": True,
    "reason": "CUSTOMER",
    "staffNote": "Wrong size. Customer reached out saying they already re-purchased the correct size.",
}

WEBHOOK_SUBSCRIPTION_CREATE_2024_10 = """mutation webhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic filter format endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
    userErrors { field message }
  }
}"""

WEBHOOK_SUBSCRIPTION_CREATE_2024_01 = """mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    userErrors { field message }
    webhookSubscription { id topic apiVersion { handle } format createdAt }
  }
}"""
WEBHOOK_SUBSCRIPTION_VARIABLES: dict[str, Any] = {
    "topic": "ORDERS_CREATE",
    "webhookSubscription": {"callbackUrl": "https://example.org/endpoint", "format": "JSON"},
}

SUGGESTED_REFUND_FIELDS = (
    "amountSet",
    "maximumRefundableSet",
    "refundLineItems",
    "shipping",
    "subtotalSet",
    "suggestedTransactions",
    "totalTaxSet",
)

THROTTLED: dict[str, Any] = {
    "errors": [{"message": "Throttled"}],
    "extensions": {
        "cost": {
            "requestedQueryCost": 202,
            "actualQueryCost": None,
            "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 118, "restoreRate": 50.0},
        }
    },
}
