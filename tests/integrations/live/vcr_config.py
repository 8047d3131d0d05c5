"""Shared vcrpy setup for every vendor's live tests: cassettes without secrets or personal data.

Live tests talk to a store's real accounts and record what they saw into
`tests/cassettes/live/<vendor>/`. Before anything is written:
- secret headers (tokens, API keys, cookies, webhook signatures) and secret or personal query
  parameters are replaced by `[filtered]`;
- JSON and form bodies, of requests and responses, lose personal fields (emails, names,
  addresses, phones, IPs) and secret fields (tokens, passwords, keys) wherever they are nested;
- every other string still goes through `integrations._http.redact` (emails, known key formats).

The default record mode is `all`: a live run always talks to the vendor and re-records, because
filtered cassettes (emails replaced in query strings) cannot be matched against new live calls.

    from tests.integrations.live.vcr_config import live_vcr, require_real_account

    def test_something(...):
        with live_vcr("gorgias").use_cassette("tickets.yaml"):
            ...
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import vcr
from pydantic import SecretStr

from agent.settings import SANDBOX_URL, Settings
from integrations._http import redact

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "live"
FILTERED = "[filtered]"

SECRET_HEADERS = (
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-shopify-access-token",
    "x-shopify-hmac-sha256",
    "x-hmac-signature",
    "x-api-key",
    "x-support-agent-secret",
    "x-gorgias-api-key",
    "x-auth-token",  # BigCommerce
)
SECRET_OR_PERSONAL_QUERY = (
    "access_token",
    "api_key",
    "key",
    "token",
    "password",
    "client_secret",
    "code",
    "hmac",
    "signature",
    "email",
    "phone",
    "query",  # Shopify customer search: query=email:...
    "search",  # WooCommerce order search by billing email
    "consumer_key",  # WooCommerce keys, when sent in the query string
    "consumer_secret",
)
SECRET_FIELDS = frozenset(
    {
        "password",
        "api_key",
        "apikey",
        "access_token",
        "refresh_token",
        "token",
        "secret",
        "client_secret",
        "key",
    }
)
PERSONAL_FIELDS = frozenset(
    {
        "email",
        "contact_email",
        "receipt_email",
        "customer_email",
        "phone",
        "first_name",
        "last_name",
        "firstname",
        "lastname",
        "address1",
        "address2",
        "street1",
        "street2",
        "line1",
        "line2",
        "zip",
        "postal_code",
        "latitude",
        "longitude",
        "company",
        "browser_ip",
        "client_ip",
        "ip",
    }
)
# Inside these objects "name" and "city" are a person's too (elsewhere "name" is an order or product).
PERSONAL_CONTAINERS = frozenset(
    {
        "customer",
        "shipping_address",
        "billing_address",
        "shippingaddress",  # GraphQL's camelCase names, lowercased
        "billingaddress",
        "defaultaddress",
        "default_address",
        "addresses",
        "address",
        "to_address",
        "from_address",
        "return_address",
        "buyer_address",
        "billing_details",
        "shipping",
        "from",
        "to",
        "cc",
        "bcc",
        "reply_to",
        "personalizations",
        "sender",
        "receiver",
        "requester",
        "assignee_user",
        "user",
    }
)
CONTAINER_PERSONAL_FIELDS = frozenset({"name", "city"})


def scrub_json(value: Any, *, personal_context: bool = False) -> Any:
    """A copy of a JSON value with secret and personal fields filtered and strings redacted."""
    if isinstance(value, dict):
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key).lower()
            if item is not None and (
                name in SECRET_FIELDS
                or name in PERSONAL_FIELDS
                or (personal_context and name in CONTAINER_PERSONAL_FIELDS)
            ):
                cleaned[key] = FILTERED
            else:
                cleaned[key] = scrub_json(
                    item, personal_context=personal_context or name in PERSONAL_CONTAINERS
                )
        return cleaned
    if isinstance(value, list):
        return [scrub_json(item, personal_context=personal_context) for item in value]
    if isinstance(value, str):
        return redact(value)
    return value


def _form_field_name(key: str) -> str:
    """`metadata[email]` -> `email`, `shipping[address][line1]` -> `line1`."""
    return key.rstrip("]").rsplit("[", 1)[-1].lower()


def scrub_text(text: str, content_type: str = "") -> str:
    """Scrub a body: JSON and form-encoded bodies field by field, anything else by redaction."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.dumps(scrub_json(json.loads(text)))
        except ValueError:
            pass
    if "x-www-form-urlencoded" in content_type or (
        "=" in text and " " not in text.strip() and not stripped.startswith("<")
    ):
        pairs = parse_qsl(text, keep_blank_values=True)
        if pairs:
            scrubbed = [
                (k, FILTERED if _form_field_name(k) in SECRET_FIELDS | PERSONAL_FIELDS else redact(v))
                for k, v in pairs
            ]
            return urlencode(scrubbed)
    return redact(text)


def _as_text(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return None  # binary (labels, images): nothing readable to leak as text
    return str(body)


def scrub_request(request: Any) -> Any:
    """vcrpy `before_record_request`: headers and query are filtered by the VCR; this does bodies."""
    text = _as_text(request.body)
    if text:
        content_type = str(request.headers.get("Content-Type", ""))
        request.body = scrub_text(text, content_type).encode()
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """vcrpy `before_record_response`: drop secret headers, scrub the (decoded) body."""
    headers: dict[str, list[str]] = response.get("headers", {})
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            headers[name] = [FILTERED]
    body = response.get("body", {})
    text = _as_text(body.get("string"))
    if text:
        content_type = next((v[0] for k, v in headers.items() if k.lower() == "content-type" and v), "")
        scrubbed = scrub_text(text, content_type).encode()
        body["string"] = scrubbed
        for name in list(headers):
            if name.lower() == "content-length":
                headers[name] = [str(len(scrubbed))]
    return response


def cassette_dir(vendor: str) -> Path:
    return CASSETTES / vendor


def live_vcr(vendor: str, *, record_mode: str = "all", cassette_library_dir: Path | None = None) -> vcr.VCR:
    """A VCR writing filtered cassettes to tests/cassettes/live/<vendor>/."""
    return vcr.VCR(
        cassette_library_dir=str(cassette_library_dir or cassette_dir(vendor)),
        record_mode=record_mode,
        serializer="yaml",
        decode_compressed_response=True,
        filter_headers=[(name, FILTERED) for name in SECRET_HEADERS],
        filter_query_parameters=[(name, FILTERED) for name in SECRET_OR_PERSONAL_QUERY],
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        match_on=("method", "scheme", "host", "port", "path", "query"),
    )


def _secret_value(value: SecretStr | str | None) -> str | None:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def points_at_sandbox(url: str | None) -> bool:
    """True for the sandbox's own URLs (default settings, loopback, anything under /sandbox)."""
    if not url:
        return False  # empty = the vendor's real API, for the SDK-based clients
    lowered = url.lower()
    return lowered.startswith(SANDBOX_URL) or any(
        marker in lowered for marker in ("://127.0.0.1", "://localhost", "://[::1]", "/sandbox/")
    )


def require_real_account(settings: Settings, *, secret_field: str, url_field: str | None = None) -> None:
    """Skip the test unless `secret_field` was changed from its sandbox default and the URL is real."""
    default = _secret_value(Settings.model_fields[secret_field].default)
    value = _secret_value(getattr(settings, secret_field))
    if not value or value == default:
        pytest.skip(
            f"{secret_field.upper()} still holds the sandbox default: no real account to test against"
        )
    if url_field is not None and points_at_sandbox(getattr(settings, url_field)):
        pytest.skip(f"{url_field.upper()} points at the sandbox")
