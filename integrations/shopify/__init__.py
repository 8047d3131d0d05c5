"""Shopify Admin REST (version in settings): the client, its models and webhook signatures."""

from integrations.shopify.client import (
    ACCESS_TOKEN_HEADER,
    AUTH_SETTING,
    CALL_LIMIT_HEADER,
    DEFAULT_API_VERSION,
    ShopifyClient,
    admin_api_url,
    shopify_http_client,
)
from integrations.shopify.models import (
    RefundCalculation,
    ShopifyAddress,
    ShopifyCancellation,
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
    "AUTH_SETTING",
    "CALL_LIMIT_HEADER",
    "DEFAULT_API_VERSION",
    "RefundCalculation",
    "ShopifyAddress",
    "ShopifyCancellation",
    "ShopifyClient",
    "ShopifyCustomer",
    "ShopifyFulfillment",
    "ShopifyLineItem",
    "ShopifyOrder",
    "ShopifyProduct",
    "ShopifyRefund",
    "ShopifyTransaction",
    "ShopifyWebhook",
    "admin_api_url",
    "shopify_http_client",
    "sign_webhook",
    "verify_webhook",
]
