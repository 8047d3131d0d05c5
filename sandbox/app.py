"""The sandbox application: every vendor emulator plus the inspection and control API.

Served in-process through `httpx.ASGITransport` (fast tests) and over HTTP by
`support-agent sandbox` (and mounted under `/sandbox` by the demo server).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from sandbox.http import VendorHTTPError, vendor_error
from sandbox.seed import Seed, build_world, load_seed
from sandbox.webhooks import WebhookSender, http_webhook_sender
from sandbox.world import Fault, World

# Vendor base paths under the sandbox root (DESIGN.md §4). Shopify's is the shop's admin root: the
# GraphQL Admin API is `api/{version}/graphql.json` under it.
VENDOR_BASES: dict[str, str] = {
    "shopify": "/shopify/admin",
    "woocommerce": "/woocommerce/wp-json/wc/v3",
    "bigcommerce": "/bigcommerce",  # then /stores/{store_hash}/v2 and /v3
    "gorgias": "/gorgias/api",
    "zendesk": "/zendesk/api/v2",
    "front": "/front",
    "intercom": "/intercom",
    "easypost": "/easypost/v2",
    "stripe": "/stripe/v1",
    "sendgrid": "/sendgrid/v3",
    "openai": "/openai/v1",
    "twilio": "/twilio/2010-04-01",
}


def vendor_of(path: str) -> tuple[str, str] | None:
    """(vendor, path under its base) for a request path, or None for control routes."""
    for vendor, base in VENDOR_BASES.items():
        if path == base or path.startswith(base + "/"):
            return vendor, path[len(base) :] or "/"
    return None


def _fault_response(fault: Fault, vendor: str) -> Response:
    if fault.kind == "rate_limit":
        message = {
            "shopify": "Throttled",
        }.get(vendor, "Too many requests. Slow down and retry later.")
        headers = {"Retry-After": str(fault.retry_after)}
        if vendor == "bigcommerce":  # BigCommerce says when its window resets, in milliseconds
            headers |= {
                "X-Rate-Limit-Requests-Left": "0",
                "X-Rate-Limit-Time-Reset-Ms": str(int(fault.retry_after * 1000)),
            }
        return vendor_error(vendor, 429, message, headers=headers)
    if fault.kind == "malformed":
        return Response(content=b'{"truncated": [1, 2', media_type="application/json", status_code=200)
    return vendor_error(vendor, fault.status, "Internal server error (injected by the sandbox)")


_OPERATION = re.compile(r"^\s*(?:query|mutation)\s+([_A-Za-z][_0-9A-Za-z]*)")


async def _graphql_operation(request: Request) -> str:
    """The GraphQL operation's name (`RefundCreate`), so a fault can target one operation: Shopify
    serves every operation at the one path."""
    try:
        payload = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        return ""
    if not isinstance(payload, dict):
        return ""
    if isinstance(payload.get("operationName"), str):
        return str(payload["operationName"])
    match = _OPERATION.match(str(payload.get("query") or ""))
    return match.group(1) if match else ""


def create_sandbox_app(
    world: World | None = None,
    *,
    seed: Seed | None = None,
    webhook_sender: WebhookSender | None = None,
    control_token: str | None = None,
) -> FastAPI:
    """A sandbox app owning `world` (a fresh demo store when omitted). With `control_token`, the
    control API under /_sandbox/ requires it as a bearer token."""
    from sandbox import control
    from sandbox.vendors import (
        bigcommerce,
        easypost,
        front,
        gorgias,
        intercom,
        sendgrid,
        shopify_graphql,
        stripe,
        twilio,
        woocommerce,
        zendesk,
    )

    seed = seed or load_seed()
    app = FastAPI(
        title="Support agent sandbox",
        version="1",
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
    )
    app.state.seed = seed
    app.state.world = world or build_world(seed)
    app.state.webhook_sender = webhook_sender or http_webhook_sender
    app.state.control_token = control_token or None

    @app.exception_handler(VendorHTTPError)
    async def _vendor_error(_: Request, exc: VendorHTTPError) -> JSONResponse:
        return vendor_error(exc.vendor, exc.status, exc.message, code=exc.code, headers=exc.headers)

    @app.middleware("http")
    async def _inject_faults(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # Faults are matched against the path relative to wherever the app is mounted.
        path = request.url.path[len(request.scope.get("root_path", "")) :] or request.url.path
        located = vendor_of(path)
        if located is not None:
            vendor, sub_path = located
            if vendor == "shopify" and sub_path.endswith("/graphql.json"):
                sub_path += "#" + await _graphql_operation(request)
            current: World = request.app.state.world
            fault = current.take_fault(vendor, request.method, sub_path)
            if fault is not None:
                if fault.kind == "delay":
                    await asyncio.sleep(fault.delay_seconds)
                    if fault.drop_if_disconnected and await request.is_disconnected():
                        return Response(status_code=499)
                elif fault.kind == "error" and fault.after_applying:
                    applied = await call_next(request)  # the vendor acts; its answer never arrives
                    async for _ in applied.body_iterator:  # type: ignore[attr-defined]
                        pass
                    return _fault_response(fault, vendor)
                else:
                    return _fault_response(fault, vendor)
        return await call_next(request)

    app.include_router(
        shopify_graphql.router, prefix=VENDOR_BASES["shopify"] + "/api/{api_version}", tags=["shopify"]
    )
    app.include_router(woocommerce.router, prefix=VENDOR_BASES["woocommerce"], tags=["woocommerce"])
    app.include_router(
        bigcommerce.router, prefix=VENDOR_BASES["bigcommerce"] + "/stores/{store_hash}", tags=["bigcommerce"]
    )
    app.include_router(gorgias.router, prefix=VENDOR_BASES["gorgias"], tags=["gorgias"])
    app.include_router(zendesk.router, prefix=VENDOR_BASES["zendesk"], tags=["zendesk"])
    app.include_router(front.router, prefix=VENDOR_BASES["front"], tags=["front"])
    app.include_router(intercom.router, prefix=VENDOR_BASES["intercom"], tags=["intercom"])
    app.include_router(easypost.router, prefix=VENDOR_BASES["easypost"], tags=["easypost"])
    app.include_router(stripe.router, prefix=VENDOR_BASES["stripe"], tags=["stripe"])
    app.include_router(sendgrid.router, prefix=VENDOR_BASES["sendgrid"], tags=["sendgrid"])
    app.include_router(twilio.router, prefix=VENDOR_BASES["twilio"], tags=["twilio"])
    app.include_router(control.router, prefix="/_sandbox", tags=["sandbox"])
    try:
        from sandbox.vendors import openai_api
    except ImportError:  # the OpenAI-compatible endpoint arrives with the offline model
        pass
    else:
        app.include_router(openai_api.router, prefix=VENDOR_BASES["openai"], tags=["openai"])
    return app
