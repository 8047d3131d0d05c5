"""Shopify Admin REST (2024-10): the client, its models and webhook signatures."""

from integrations.shopify.client import (
    ACCESS_TOKEN_HEADER,
    API_VERSION,
    AUTH_SETTING,
    CALL_LIMIT_HEADER,
    ShopifyClient,
    shopify_http_client,
)
from integrations.shopify.models import (
    RefundCalculation,
    ShopifyAddress,
    ShopifyCustomer,
    ShopifyFulfillment,
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyProduct,
    ShopifyRefund,
    ShopifyTransaction,
    ShopifyWebhook,
)
from integrations.shopify.webhooks import sign_webhook, verify_webhook

__all__ = [
    "ACCESS_TOKEN_HEADER",
    "API_VERSION",
    "AUTH_SETTING",
    "CALL_LIMIT_HEADER",
    "RefundCalculation",
    "ShopifyAddress",
    "ShopifyClient",
    "ShopifyCustomer",
    "ShopifyFulfillment",
    "ShopifyLineItem",
    "ShopifyOrder",
    "ShopifyProduct",
    "ShopifyRefund",
    "ShopifyTransaction",
    "ShopifyWebhook",
    "shopify_http_client",
    "sign_webhook",
    "verify_webhook",
]
