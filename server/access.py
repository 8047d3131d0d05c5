"""Conversation access tokens: whoever starts a conversation gets a bearer token for it.

The conversation id alone is not a credential: it travels in URLs, access logs and helpdesk
tickets. Every read, post and event stream therefore also needs `Authorization: Bearer <token>`,
the random token returned once by `POST /api/conversations`. Only the token's SHA-256 is stored,
and the check compares digests in constant time. A missing token is a 401; a wrong one (or
another conversation's) is the same 404 as an unknown conversation, so a guess learns nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Annotated

from fastapi import Depends, Request

from agent.conversation import ConversationNotFound, ConversationService
from server.security import ApiError

TOKEN_BYTES = 32
# Ids are opaque to the server; anything outside this shape cannot be one of ours.
_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Compared against when there is no stored digest, so an unknown conversation costs the same.
_NO_DIGEST = hashlib.sha256(b"no conversation").hexdigest()


def new_access_token() -> tuple[str, str]:
    """(token for the client, digest to store)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(request: Request) -> str:
    """The request's bearer token, or a 401 that says what to send."""
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(
            401,
            "missing_token",
            "Send the conversation's token as `Authorization: Bearer <token>` "
            "(it is returned by POST /api/conversations).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token


def digests_match(token: str, stored: str | None) -> bool:
    """Constant-time comparison of the token's digest with the stored one."""
    given = token_digest(token).encode()
    matches = hmac.compare_digest(given, (stored or _NO_DIGEST).encode())
    return matches and stored is not None


async def authorized_conversation(conversation_id: str, request: Request) -> str:
    """FastAPI dependency: the path's conversation id once the bearer token opens it."""
    token = bearer_token(request)
    if not _CONVERSATION_ID.match(conversation_id):
        raise ConversationNotFound(conversation_id)
    service: ConversationService = request.app.state.service
    stored = await service.access_digest(conversation_id)
    if not digests_match(token, stored):
        raise ConversationNotFound(conversation_id)
    return conversation_id


AuthorizedConversation = Annotated[str, Depends(authorized_conversation)]
