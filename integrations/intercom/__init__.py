"""Intercom helpdesk: conversations mirrored from chats, hand-offs, notes, tags and assignment."""

from integrations.intercom.client import (
    AUTH_SETTING,
    CALL_BUDGET,
    CONVERSATION_ATTRIBUTE,
    DEFAULT_API_VERSION,
    IntercomClient,
    NewPart,
    intercom_http_client,
)
from integrations.intercom.models import IntercomContact, IntercomConversation, IntercomNotification

__all__ = [
    "AUTH_SETTING",
    "CALL_BUDGET",
    "CONVERSATION_ATTRIBUTE",
    "DEFAULT_API_VERSION",
    "IntercomClient",
    "IntercomContact",
    "IntercomConversation",
    "IntercomNotification",
    "NewPart",
    "intercom_http_client",
]
