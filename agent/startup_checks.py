"""Start-up checks of a real store's vendor setup: what would otherwise fail on a shopper's first
request, said clearly in the log when the server starts (SANDBOX_MODE=false).

- SendGrid refuses every email from an address that is neither a verified Sender Identity nor on
  an authenticated domain (403): MAIL_FROM is checked against the account's sender identities.
- Shopify answers ACCESS_DENIED to a field needing a scope the token lacks, and without
  `read_all_orders` shows only the last 60 days of orders: the token's scopes
  (`currentAppInstallation { accessScopes }`) are compared with what the agent needs, and each
  missing one is named with what it breaks.
- Shopify serves a retired API version with its oldest supported one: SHOPIFY_API_VERSION is
  checked against the versions Shopify supports today.
- BigCommerce signs no webhook: its hooks must carry the secret header, or every delivery is refused.
  The store's hooks (`/v3/hooks`) are checked for the order scopes and that header's value.

A check that cannot reach its vendor says so and moves on: a network hiccup at start-up must not
keep the agent down, and nothing here raises.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from agent.settings import Settings
from integrations._http import AuthError, IntegrationError, retrying
from integrations.bigcommerce.client import BigCommerceClient, bigcommerce_http_client
from integrations.bigcommerce.webhooks import SUBSCRIBED_SCOPES as BIGCOMMERCE_SCOPES
from integrations.sendgrid.client import SENDER_SETTING, SendGridMailer
from integrations.shopify.client import ShopifyGraphQLClient, shopify_graphql_http_client
from integrations.shopify.models import (
    OPTIONAL_SCOPES,
    ORDER_HISTORY_DAYS,
    READ_ALL_ORDERS,
    REQUIRED_SCOPES,
    missing_scopes,
    release_candidate,
    supported_api_versions,
)

logger = logging.getLogger("agent.startup")

CHECK_TIMEOUT_SECONDS = 10.0


async def check_vendor_setup(
    settings: Settings,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[str]:
    """Check the store's vendor setup; every problem found is logged as a warning and returned."""
    store: list[str] = []
    if settings.store_platform == "shopify":
        store = [
            *check_shopify_version(settings, now()),
            *await check_shopify_scopes(settings, transport=transport),
        ]
    if settings.store_platform == "bigcommerce":
        store = await check_bigcommerce_hooks(settings, transport=transport)
    warnings = [*store, *await check_mail_sender(settings)]
    for warning in warnings:
        logger.warning("%s", warning)
    return warnings


async def check_mail_sender(settings: Settings) -> list[str]:
    """MAIL_FROM must be a verified SendGrid Sender Identity (or on an authenticated domain)."""
    mailer = SendGridMailer(
        settings.sendgrid_api_key.get_secret_value(),
        settings.sendgrid_host or None,
        from_email=settings.mail_from,
        team_email=settings.team_email,
        timeout=CHECK_TIMEOUT_SECONDS,
        retry_policy=lambda: retrying(attempts=1),
    )
    try:
        status = await mailer.sender_status()
    except IntegrationError as exc:
        return [
            f"Could not check that {SENDER_SETTING} may send through SendGrid ({exc}); if it is not a verified "
            "Sender Identity, every email the agent sends will be refused."
        ]
    if status.verified:
        return []
    return [
        f"{SENDER_SETTING} is {status.detail} in SendGrid: every email the agent sends (return labels, "
        "verification codes, escalations to the team) will be refused with 403 until it is verified "
        "(SendGrid: Settings > Sender Authentication) or its domain is authenticated."
    ]


async def check_bigcommerce_hooks(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> list[str]:
    """The store's order hooks should exist, be active and carry BIGCOMMERCE_WEBHOOK_HEADER's value."""
    http = bigcommerce_http_client(
        settings.bigcommerce_api_base,
        settings.bigcommerce_store_hash,
        settings.bigcommerce_access_token.get_secret_value(),
        transport=transport,
    )
    async with http:
        try:
            hooks = await BigCommerceClient(http, retry_policy=lambda: retrying(attempts=1)).list_hooks()
        except AuthError as exc:
            return [
                f"BigCommerce refused the access token ({exc}): the agent cannot read or change any order."
            ]
        except IntegrationError as exc:
            return [f"Could not read the BigCommerce store's webhooks ({exc})."]
    name = settings.bigcommerce_webhook_header.lower()
    secret = settings.bigcommerce_webhook_secret.get_secret_value().encode()
    warnings = []
    for scope in BIGCOMMERCE_SCOPES:
        mine = [h for h in hooks if h.scope in (scope, "store/order/*", "store/shipment/*") and h.is_active]
        mine = [h for h in mine if h.scope == scope or scope.startswith(h.scope[:-1])]
        if not mine:
            warnings.append(
                f"No active BigCommerce hook for {scope}: the agent will not hear of those changes made in the "
                "control panel (README: Connecting a real store, BigCommerce)."
            )
            continue
        values = [v for h in mine for k, v in (h.headers or {}).items() if k.lower() == name]
        if not any(hmac.compare_digest(v.encode(), secret) for v in values):
            warnings.append(
                f"The BigCommerce hook for {scope} does not send {settings.bigcommerce_webhook_header} with the "
                "value of BIGCOMMERCE_WEBHOOK_SECRET: /webhooks/bigcommerce will refuse its deliveries."
            )
    return warnings


_BASE_VERSION = re.compile(r"/(\d{4}-\d{2}|unstable)/?$")


def check_shopify_version(settings: Settings, now: datetime) -> list[str]:
    """SHOPIFY_API_VERSION should be one of the stable versions Shopify supports today."""
    version = settings.shopify_api_version
    supported = supported_api_versions(now)
    warnings = []
    if version == "unstable" or version == release_candidate(now):
        warnings.append(
            f"SHOPIFY_API_VERSION={version} is not a stable version (Shopify may change it without notice); "
            f"the supported stable versions are {', '.join(supported)}."
        )
    elif version not in supported:
        warnings.append(
            f"SHOPIFY_API_VERSION={version} is no longer supported by Shopify, which answers its requests with "
            f"{supported[0]} instead; set it to one of {', '.join(supported)} (the newest is {supported[-1]})."
        )
    named = _BASE_VERSION.search(settings.shopify_api_base.rstrip("/"))
    if named and named.group(1) != version:
        warnings.append(
            f"SHOPIFY_API_BASE ends in the version {named.group(1)}, which is ignored: requests use "
            f"SHOPIFY_API_VERSION={version}. Set SHOPIFY_API_BASE to https://<shop>.myshopify.com/admin/api."
        )
    return warnings


async def check_shopify_scopes(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> list[str]:
    """The Admin API token should hold every scope the agent uses (and read_all_orders)."""
    http = shopify_graphql_http_client(
        settings.shopify_api_base,
        settings.shopify_access_token.get_secret_value(),
        api_version=settings.shopify_api_version,
        transport=transport,
    )
    async with http:
        try:
            granted = await ShopifyGraphQLClient(
                http, retry_policy=lambda: retrying(attempts=1)
            ).access_scopes()
        except AuthError as exc:
            return [
                f"Shopify refused the Admin API token ({exc}): the agent cannot read or change any order."
            ]
        except IntegrationError as exc:
            return [f"Could not read the Shopify token's access scopes ({exc}); the agent needs {_scopes()}."]
    warnings = []
    missing = missing_scopes(granted, REQUIRED_SCOPES)
    if missing:
        reasons = "; ".join(f"{scope}: {REQUIRED_SCOPES[scope]}" for scope in missing)
        warnings.append(
            f"The Shopify token (SHOPIFY_ACCESS_TOKEN) lacks the scopes {', '.join(missing)}, so Shopify will "
            f"answer 403 when the agent needs them ({reasons}). Add them to the app and reinstall it."
        )
    if missing_scopes(granted, OPTIONAL_SCOPES):
        warnings.append(
            f"The Shopify token (SHOPIFY_ACCESS_TOKEN) lacks {READ_ALL_ORDERS}: Shopify shows the agent only "
            f"the orders of the last {ORDER_HISTORY_DAYS} days, and shoppers asking about an older order are "
            f"handed to a person. Request {READ_ALL_ORDERS} (Shopify grants it on request) and add it to the app "
            "to let the agent answer them."
        )
    return warnings


def _scopes() -> str:
    return ", ".join([*REQUIRED_SCOPES, *OPTIONAL_SCOPES])
