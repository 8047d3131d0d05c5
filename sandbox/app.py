"""The sandbox application: every vendor emulator plus the inspection and control API.

Served in-process through `httpx.ASGITransport` (fast tests) and over HTTP by
`support-agent sandbox` (and mounted under `/sandbox` by the demo server).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from sandbox.http import VendorHTTPError, vendor_error
from sandbox.seed import Seed, build_world, load_seed
from sandbox.webhooks import WebhookSender, http_webhook_sender
from sandbox.world import Fault, World

# Vendor base paths under the sandbox root (DESIGN.md §4). Shopify's is the shop's admin root:
# the REST API lives under `api/{version}/`, the access scopes under `oauth/`.
VENDOR_BASES: dict[str, str] = {
    "shopify": "/shopify/admin",
    "woocommerce": "/woocommerce/wp-json/wc/v3",
    "gorgias": "/gorgias/api",
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
            "shopify": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.",
        }.get(vendor, "Too many requests. Slow down and retry later.")
        return vendor_error(vendor, 429, message, headers={"Retry-After": str(fault.retry_after)})
    if fault.kind == "malformed":
        return Response(content=b'{"truncated": [1, 2', media_type="application/json", status_code=200)
    return vendor_error(vendor, fault.status, "Internal server error (injected by the sandbox)")


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
    from sandbox.vendors import easypost, gorgias, sendgrid, shopify, stripe, twilio, woocommerce

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
        shopify.router, prefix=VENDOR_BASES["shopify"] + "/api/{api_version}", tags=["shopify"]
    )
    app.include_router(shopify.oauth_router, prefix=VENDOR_BASES["shopify"] + "/oauth", tags=["shopify"])
    app.include_router(woocommerce.router, prefix=VENDOR_BASES["woocommerce"], tags=["woocommerce"])
    app.include_router(gorgias.router, prefix=VENDOR_BASES["gorgias"], tags=["gorgias"])
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
