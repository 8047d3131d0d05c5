"""Shopify webhook signatures: `X-Shopify-Hmac-Sha256` is base64(HMAC-SHA256(app secret, raw body)).

Verify against the raw request bytes, before any JSON parsing: re-serialised JSON would not match.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
SHOP_DOMAIN_HEADER = "X-Shopify-Shop-Domain"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"


def _digest(raw_body: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()


def sign_webhook(raw_body: bytes, secret: str) -> str:
    """The header value Shopify would send for this body (for tests and the sandbox)."""
    return base64.b64encode(_digest(raw_body, secret)).decode()


def verify_webhook(raw_body: bytes, hmac_header: str | None, secret: str) -> bool:
    """True only when the header is the body's signature; False when missing, malformed or wrong."""
    if not hmac_header or not secret:
        return False
    try:
        given = base64.b64decode(hmac_header.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(given, _digest(raw_body, secret))
