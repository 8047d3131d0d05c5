"""Gorgias helpdesk: tickets mirrored from conversations, handoffs, internal notes and tags."""

from integrations.gorgias.client import AUTH_SETTING, GorgiasClient, gorgias_http_client
from integrations.gorgias.models import (
    GorgiasCustomer,
    GorgiasMessage,
    GorgiasTicket,
    GorgiasUser,
    HelpdeskWebhookEvent,
    NewMessage,
)

__all__ = [
    "AUTH_SETTING",
    "GorgiasClient",
    "GorgiasCustomer",
    "GorgiasMessage",
    "GorgiasTicket",
    "GorgiasUser",
    "HelpdeskWebhookEvent",
    "NewMessage",
    "gorgias_http_client",
]
