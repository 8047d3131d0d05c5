"""Vendor-shaped errors and credential checks shared by the emulators.

Each vendor answers failures in its own body shape; clients are tested against these shapes
and the real recorded ones alike.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from sandbox.world import World

_AUTH_MESSAGES = {
    "shopify": "[API] Invalid API key or access token (unrecognized login or wrong password)",
    "gorgias": "Authentication failed: invalid email or API key.",
    "zendesk": "Couldn't authenticate you",
    "front": "Invalid token",
    "intercom": "Access Token Invalid",
    "woocommerce": "Consumer key is invalid.",
    "bigcommerce": "You are not authorized to access this resource.",
    "easypost": "We couldn't authenticate you. Please check your API key.",
    "stripe": "Invalid API Key provided.",
    "sendgrid": "The provided authorization grant is invalid, expired, or revoked",
    "openai": "Incorrect API key provided.",
}


def vendor_error_body(vendor: str, status: int, message: str, *, code: str | None = None) -> Any:
    """The error body each vendor really sends, with our message."""
    if vendor == "shopify":
        return {"errors": message}
    if vendor == "gorgias":
        return {"error": {"msg": message}, "message": message}
    if vendor == "zendesk":  # {"error", "description"}; 401 carries only its "error" sentence
        if status == 401:
            return {"error": message}
        label = code or {404: "RecordNotFound", 422: "RecordInvalid", 429: "APIRateLimitExceeded"}.get(
            status, "InternalError" if status >= 500 else "InvalidEndpoint"
        )
        return {"error": label, "description": message}
    if vendor == "front":  # {"_error": {"status", "title", "message"}}
        title = {
            400: "Bad request",
            401: "Unauthenticated",
            403: "Forbidden",
            404: "Not found",
            409: "Conflict",
            429: "Too Many Requests",
        }.get(status, "Internal error" if status >= 500 else "Bad request")
        return {"_error": {"status": status, "title": code or title, "message": message}}
    if vendor == "intercom":  # an error.list; 401's code is `unauthorized`
        label = code or {
            400: "parameter_invalid",
            401: "unauthorized",
            404: "not_found",
            409: "conflict",
            422: "parameter_invalid",
            429: "rate_limit_exceeded",
        }.get(status, "server_error" if status >= 500 else "parameter_invalid")
        return {"type": "error.list", "request_id": None, "errors": [{"code": label, "message": message}]}
    if vendor == "woocommerce":  # the WordPress REST API's WP_Error shape
        wp_code = {
            401: "woocommerce_rest_authentication_error",
            404: "rest_no_route",
            429: "woocommerce_rest_too_many_requests",
        }.get(status, "internal_server_error" if status >= 500 else "rest_invalid_param")
        return {"code": code or wp_code, "message": message, "data": {"status": status}}
    if vendor == "bigcommerce":
        return bigcommerce_error_body(status, message, code)
    if vendor == "easypost":
        default = {401: "APIKEY.INACTIVE", 404: "NOT_FOUND", 422: "PARAMETER.INVALID", 429: "RATE_LIMITED"}
        return {
            "error": {
                "code": code or default.get(status, "INTERNAL_SERVER_ERROR"),
                "message": message,
                "errors": [],
            }
        }
    if vendor == "stripe":
        kind = {429: "rate_limit_error", 401: "invalid_request_error"}.get(
            status, "api_error" if status >= 500 else "invalid_request_error"
        )
        error: dict[str, Any] = {"type": kind, "message": message}
        if code:
            error["code"] = code
        return {"error": error}
    if vendor == "sendgrid":
        return {"errors": [{"message": message, "field": None, "help": None}]}
    if vendor == "twilio":
        twilio_code = {401: 20003, 404: 20404, 429: 20429}.get(status, 20500)
        return {
            "code": twilio_code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{twilio_code}",
            "status": status,
        }
    if vendor == "openai":
        kind = {429: "rate_limit_exceeded", 401: "invalid_request_error"}.get(
            status, "server_error" if status >= 500 else "invalid_request_error"
        )
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return {"error": message}


BIGCOMMERCE_STATUS_CODES = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"


def bigcommerce_error_body(status: int, message: str, code: str | None) -> Any:
    """V2 answers a list `[{"status", "message"}]` (code "v2"); V3 `{"status", "title", "type",
    "errors"}`, its per-field `errors` carried JSON-encoded in `code`."""
    if code == "v2":
        return [{"status": status, "message": message}]
    try:
        errors = json.loads(code) if code else {}
    except ValueError:
        errors = {}
    return {"status": status, "title": message, "type": BIGCOMMERCE_STATUS_CODES, "errors": errors or {}}


def vendor_error(
    vendor: str, status: int, message: str, *, code: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        vendor_error_body(vendor, status, message, code=code), status_code=status, headers=headers
    )


class VendorHTTPError(Exception):
    """Raised inside an emulator route; rendered as the vendor's error body by the app."""

    def __init__(
        self,
        vendor: str,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.vendor = vendor
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers
        super().__init__(message)


def get_world(request: Request) -> World:
    world: World = request.app.state.world
    return world


WorldDep = Annotated[World, Depends(get_world)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def unauthorized(vendor: str) -> VendorHTTPError:
    code = "APIKEY.INACTIVE" if vendor == "easypost" else ("invalid_api_key" if vendor == "openai" else None)
    headers = {"WWW-Authenticate": 'Basic realm="gorgias"'} if vendor == "gorgias" else None
    return VendorHTTPError(vendor, 401, _AUTH_MESSAGES[vendor], code=code, headers=headers)


def require_shopify(request: Request, world: WorldDep) -> None:
    if request.headers.get("x-shopify-access-token") != world.credentials.shopify_access_token:
        raise unauthorized("shopify")


def require_woocommerce(request: Request, world: WorldDep) -> None:
    """Consumer key and secret as HTTP Basic, or (as WooCommerce also accepts over HTTPS) as the
    `consumer_key` / `consumer_secret` query parameters."""
    wanted = (world.credentials.woocommerce_consumer_key, world.credentials.woocommerce_consumer_secret)
    query = (request.query_params.get("consumer_key"), request.query_params.get("consumer_secret"))
    if _basic(request) != wanted and query != wanted:
        raise unauthorized("woocommerce")


def require_gorgias(request: Request, world: WorldDep) -> None:
    if _basic(request) != (world.credentials.gorgias_email, world.credentials.gorgias_api_key):
        raise unauthorized("gorgias")


def require_zendesk(request: Request, world: WorldDep) -> None:
    """An API token: HTTP Basic with `{email}/token` and the token."""
    wanted = (f"{world.credentials.zendesk_email}/token", world.credentials.zendesk_api_token)
    if _basic(request) != wanted:
        raise unauthorized("zendesk")


def require_front(request: Request, world: WorldDep) -> None:
    """An API token, sent as a bearer token."""
    if _bearer(request) != world.credentials.front_api_token:
        raise unauthorized("front")


def require_intercom(request: Request, world: WorldDep) -> None:
    """A bearer access token."""
    if _bearer(request) != world.credentials.intercom_access_token:
        raise unauthorized("intercom")


def require_easypost(request: Request, world: WorldDep) -> None:
    # The EasyPost SDK sends HTTP Basic with the key as user name; Bearer is accepted too.
    basic = _basic(request)
    key = basic[0] if basic else _bearer(request)
    if key != world.credentials.easypost_api_key:
        raise unauthorized("easypost")


def require_stripe(request: Request, world: WorldDep) -> None:
    basic = _basic(request)
    key = _bearer(request) or (basic[0] if basic else None)
    if key != world.credentials.stripe_api_key:
        raise unauthorized("stripe")


def require_sendgrid(request: Request, world: WorldDep) -> None:
    if _bearer(request) != world.credentials.sendgrid_api_key:
        raise unauthorized("sendgrid")


def require_openai(request: Request, world: WorldDep) -> None:
    if _bearer(request) != world.credentials.openai_api_key:
        raise unauthorized("openai")
