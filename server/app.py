"""The FastAPI app factory: chat API, webhooks, widget and demo storefront.

The lifespan owns the conversation service (and through it the clients and the compiled graph):
opened once at start-up, closed at shutdown. By default it is the production runtime built from
the settings (`agent.deps`); the caller can hand in another way to open it (`open_service`, as the
demo does on the sandbox), extra apps to mount (`mounts`), or a ready service (tests).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from agent.conversation import ConversationNotFound, ConversationService
from agent.deps import open_conversation_service
from agent.logs import install_redaction
from agent.settings import Settings
from agent.webhooks import WebhookReceivers
from server import routes_chat, routes_webhooks
from server.security import ApiError, BodySizeLimitMiddleware, BodyTooLarge, RateLimiter, RecentIds
from server.unicode_guard import UnicodeGuardMiddleware

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SSE_KEEPALIVE_SECONDS = 15.0
# How long a message POST waits for the service's first event before starting the stream: long
# enough that an unknown conversation is a plain 404, short enough not to hold the headers back.
FIRST_EVENT_WAIT_SECONDS = 2.0
SHUTDOWN_GRACE_SECONDS = 5.0
# Opens the conversation service for the app's lifetime (the lifespan enters it at start-up).
ServiceOpener = Callable[[], AbstractAsyncContextManager[ConversationService]]


def with_public_url(settings: Settings, public_url: str) -> Settings:
    """Settings for a server reachable at `public_url`: moves the public URL and the CORS allowlist
    along, except where they were configured explicitly."""
    public_url = public_url.rstrip("/")
    explicit = settings.model_fields_set
    update: dict[str, Any] = {}
    if "public_url" not in explicit:
        update["public_url"] = public_url
    if "cors_origins" not in explicit and public_url not in settings.cors_origins:
        update["cors_origins"] = [*settings.cors_origins, public_url]
    return settings.model_copy(update=update)


@cache
def _static(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def _error(
    status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def _error_code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def _install_error_handlers(app: FastAPI) -> None:
    """Every error is `{"error": code, "detail": ...}` JSON; stack traces only go to the log."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.error, exc.detail, exc.headers)

    @app.exception_handler(ConversationNotFound)
    async def _not_found(_: Request, exc: ConversationNotFound) -> JSONResponse:
        return _error(404, "conversation_not_found", "No conversation with this id.")

    @app.exception_handler(BodyTooLarge)
    async def _too_large(_: Request, exc: BodyTooLarge) -> JSONResponse:
        return _error(413, "body_too_large", exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, _error_code(exc.status_code), exc.detail, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Only where and what: the rejected input is not echoed back.
        detail = [
            {
                "loc": [str(part) for part in error.get("loc", ())],
                "msg": error.get("msg"),
                "type": error.get("type"),
            }
            for error in exc.errors()
        ]
        return _error(422, "invalid_request", detail)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return _error(500, "internal_error", "Something went wrong on our side.")


async def _finish_background_tasks(tasks: set[asyncio.Task[None]]) -> None:
    """Let running turns finish (briefly), then cancel what is left, before the service closes."""
    if not tasks:
        return
    _, pending = await asyncio.wait(set(tasks), timeout=SHUTDOWN_GRACE_SECONDS)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def create_app(
    settings: Settings,
    *,
    service: ConversationService | None = None,
    open_service: ServiceOpener | None = None,
    mounts: Mapping[str, ASGIApp] | None = None,
) -> FastAPI:
    """The server.

    - `service`: a ready conversation service (tests); nothing is opened or closed for it.
    - `open_service`: otherwise, how the lifespan opens the service for the app's lifetime; by
      default the production runtime built from `settings` (`agent.deps.open_conversation_service`).
    - `mounts`: more ASGI apps served under their path prefixes (the demo mounts the sandbox).
    """
    install_redaction()  # however the app is served, its logs carry no email, token or secret
    opener: ServiceOpener = open_service or (lambda: open_conversation_service(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if service is not None:
                app.state.service = service
            else:
                app.state.service = await stack.enter_async_context(opener())
            try:
                yield
            finally:
                await _finish_background_tasks(app.state.background_tasks)

    app = FastAPI(
        title="Support agent",
        version="1",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.sse_keepalive_seconds = SSE_KEEPALIVE_SECONDS
    app.state.first_event_wait_seconds = FIRST_EVENT_WAIT_SECONDS
    app.state.background_tasks = set()
    app.state.ip_limiter = RateLimiter(settings.rate_limit_per_ip_per_minute)
    app.state.conversation_limiter = RateLimiter(settings.rate_limit_per_conversation_per_minute)
    app.state.webhook_ids = RecentIds()
    app.state.webhook_receivers = WebhookReceivers.from_settings(settings)
    if service is not None:
        app.state.service = service

    _install_error_handlers(app)
    # Added last = outermost: even a 413 or 429 carries CORS headers, so the widget can read it.
    # The Unicode check sits inside the size limit: it buffers bodies, so they must be bounded first.
    app.add_middleware(UnicodeGuardMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Accept", "Authorization", "Last-Event-ID"],
        max_age=600,
    )

    app.include_router(routes_chat.router)
    app.include_router(routes_chat.schemas)
    app.include_router(routes_webhooks.router)

    @app.get("/healthz", tags=["meta"])
    async def healthz(request: Request) -> dict[str, Any]:
        """Liveness, the helpdesk outbox (how much mirroring waits and for how long) and the
        shopper turns waiting for a free slot in this process."""
        body: dict[str, Any] = {"status": "ok"}
        service = request.app.state.service
        report = getattr(service, "helpdesk_backlog", None)
        if callable(report):
            body["outbox"] = await report()
        waiting = getattr(service, "turns_waiting", None)
        if callable(waiting):
            body["turns_waiting"] = waiting()
        return body

    @app.get("/widget.js", include_in_schema=False)
    async def widget_js() -> Response:
        return Response(
            _static("widget.js"),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    @app.get("/", include_in_schema=False)
    async def storefront() -> HTMLResponse:
        return HTMLResponse(_static("storefront.html"), headers={"Cache-Control": "no-cache"})

    for prefix, mounted in (mounts or {}).items():
        app.mount(prefix, mounted)
    return app
