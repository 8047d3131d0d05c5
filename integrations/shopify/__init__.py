"""Shopify through its GraphQL Admin API (version in settings): the client, its operations and
models, the adapter, and webhook signatures."""

from integrations.shopify.client import (
    ACCESS_TOKEN_HEADER,
    AUTH_SETTING,
    DEFAULT_API_VERSION,
    ShopifyGraphQLClient,
    ShopifyUserError,
    admin_api_url,
    graphql_endpoint,
    shopify_graphql_http_client,
)
from integrations.shopify.models import (
    ShopifyAddress,
    ShopifyCustomer,
    ShopifyFulfillment,
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyProduct,
    ShopifyRefund,
    ShopifyTransaction,
)
from integrations.shopify.webhooks import sign_webhook, verify_webhook

__all__ = [
    "ACCESS_TOKEN_HEADER",
    "AUTH_SETTING",
    "DEFAULT_API_VERSION",
    "ShopifyAddress",
    "ShopifyCustomer",
    "ShopifyFulfillment",
    "ShopifyGraphQLClient",
    "ShopifyLineItem",
    "ShopifyOrder",
    "ShopifyProduct",
    "ShopifyRefund",
    "ShopifyTransaction",
    "ShopifyUserError",
    "admin_api_url",
    "graphql_endpoint",
    "shopify_graphql_http_client",
    "sign_webhook",
    "verify_webhook",
]
