"""Front helpdesk: chats synced into an application channel, hand-offs, internal comments and tags."""

from integrations.front.client import AUTH_SETTING, CALL_BUDGET, FrontClient, front_http_client
from integrations.front.models import (
    FrontComment,
    FrontConversation,
    FrontEvent,
    FrontMessage,
    FrontTag,
    conversation_api_id,
    conversation_number,
)

__all__ = [
    "AUTH_SETTING",
    "CALL_BUDGET",
    "FrontClient",
    "FrontComment",
    "FrontConversation",
    "FrontEvent",
    "FrontMessage",
    "FrontTag",
    "conversation_api_id",
    "conversation_number",
    "front_http_client",
]
