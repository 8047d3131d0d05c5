"""Which adapter receives which vendor's webhooks, and handing their events to the conversations.

The settings name the store platform (`STORE_PLATFORM`) and the helpdesk (`HELPDESK`); their
adapters verify and parse deliveries (`integrations/ports.py`). Only the configured vendors
receive webhooks: a delivery for any other name is refused before its body is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import get_args

from agent.conversation import ConversationService
from agent.helpdesks import helpdesk_spec
from agent.settings import Settings
from integrations.bigcommerce.webhooks import BigCommerceWebhooks
from integrations.events import HelpdeskEvent, StoreEvent
from integrations.ports import HelpdeskWebhooks, StoreWebhooks
from integrations.shopify.webhooks import ShopifyWebhooks
from integrations.woocommerce.webhooks import WooCommerceWebhooks

HELPDESKS: tuple[str, ...] = get_args(Settings.model_fields["helpdesk"].annotation)
STORE_PLATFORMS: tuple[str, ...] = get_args(Settings.model_fields["store_platform"].annotation)


def shopify_webhooks(settings: Settings) -> ShopifyWebhooks:
    return ShopifyWebhooks(secret=settings.shopify_webhook_secret.get_secret_value())


def woocommerce_webhooks(settings: Settings) -> WooCommerceWebhooks:
    return WooCommerceWebhooks(secret=settings.woocommerce_webhook_secret.get_secret_value())


def bigcommerce_webhooks(settings: Settings) -> BigCommerceWebhooks:
    return BigCommerceWebhooks(
        secret=settings.bigcommerce_webhook_secret.get_secret_value(),
        header_name=settings.bigcommerce_webhook_header,
    )


def helpdesk_webhooks(settings: Settings) -> HelpdeskWebhooks:
    """The configured helpdesk's webhook side (the same one its `Helpdesk` adapter uses)."""
    return helpdesk_spec(settings.helpdesk).webhooks(settings)


def store_webhooks(settings: Settings) -> StoreWebhooks:
    """The configured store platform's webhook side (the same one its `CommerceBackend` uses)."""
    match settings.store_platform:
        case "shopify":
            return shopify_webhooks(settings)
        case "woocommerce":
            return woocommerce_webhooks(settings)
        case "bigcommerce":
            return bigcommerce_webhooks(settings)


@dataclass(frozen=True)
class WebhookReceivers:
    """The configured vendors' webhook receivers, by vendor name."""

    helpdesks: Mapping[str, HelpdeskWebhooks]
    store_platforms: Mapping[str, StoreWebhooks]

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookReceivers:
        return cls(
            helpdesks={settings.helpdesk: helpdesk_webhooks(settings)},
            store_platforms={settings.store_platform: store_webhooks(settings)},
        )

    @staticmethod
    def is_known(vendor: str) -> bool:
        """Whether an adapter by this name exists (configured here or not)."""
        return vendor in HELPDESKS or vendor in STORE_PLATFORMS


async def deliver_helpdesk_events(service: ConversationService, events: list[HelpdeskEvent]) -> bool:
    """Hand a delivery's events to the conversations, in order; False when none named one of ours."""
    handled = False
    for event in events:
        handled = await service.helpdesk_event(event) or handled
    return handled


async def deliver_store_events(service: ConversationService, events: list[StoreEvent]) -> bool:
    """Hand a delivery's store events to the service, in order; False when there were none."""
    for event in events:
        await service.store_event(event)
    return bool(events)


async def receive_helpdesk_webhook(
    receiver: HelpdeskWebhooks, service: ConversationService, headers: Mapping[str, str], raw_body: bytes
) -> bool:
    """Verify, parse and deliver one helpdesk webhook (raises `WebhookError` when refused). For
    callers without the HTTP route: the in-process sandbox helpdesk, the eval harness."""
    receiver.verify_webhook(headers, raw_body)
    return await deliver_helpdesk_events(service, receiver.parse_webhook(headers, raw_body))
