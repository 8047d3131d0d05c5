"""Zendesk Support helpdesk: tickets mirrored from conversations, hand-offs, private notes and tags."""

from integrations.zendesk.client import AUTH_SETTING, CALL_BUDGET, ZendeskClient, zendesk_http_client
from integrations.zendesk.models import (
    NewComment,
    ZendeskComment,
    ZendeskTicket,
    ZendeskUser,
    ZendeskWebhookBody,
)

__all__ = [
    "AUTH_SETTING",
    "CALL_BUDGET",
    "NewComment",
    "ZendeskClient",
    "ZendeskComment",
    "ZendeskTicket",
    "ZendeskUser",
    "ZendeskWebhookBody",
    "zendesk_http_client",
]
