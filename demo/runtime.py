"""The agent on the sandbox store: the production runtime (`agent.deps.open_runtime`) with the
sandbox's URLs, its clock, and its helpdesk's webhooks delivered to the conversation service.

Used by the terminal chat, the evals, the notebooks, the benchmarks and the tests; the chat server
mounts the sandbox instead (`demo.server`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from langchain_core.language_models import BaseChatModel

from agent.deps import Runtime, open_runtime
from agent.helpdesks import helpdesk_spec
from agent.persistence import Persistence
from agent.service import GraphConversationService
from agent.settings import Settings
from agent.webhooks import helpdesk_webhooks, receive_helpdesk_webhook
from demo.sandbox import demo_settings, ensure_chat_backend, new_sandbox_app, world_clock, world_of
from integrations.events import WebhookError
from sandbox.serve import serve_in_thread
from sandbox.shopify_webhooks import http_raw_sender
from sandbox.webhooks import encode_body, http_webhook_sender
from sandbox.world import World

logger = logging.getLogger(__name__)

# Where the sandbox helpdesk's webhooks go when there is no chat server: straight to the service.
IN_PROCESS_WEBHOOK = "inprocess://conversation-service"


@dataclass(kw_only=True)
class DemoRuntime(Runtime):
    """A runtime on the sandbox, and the sandbox itself (to inspect and act on the store)."""

    sandbox_app: FastAPI
    sandbox_url: str

    @property
    def world(self) -> World:
        return world_of(self.sandbox_app)


@asynccontextmanager
async def open_demo_runtime(
    settings: Settings,
    *,
    model: BaseChatModel | None = None,
    sandbox_app: FastAPI | None = None,
    sandbox_url: str | None = None,
    persistence: Persistence | None = None,
) -> AsyncIterator[DemoRuntime]:
    """The agent on a sandbox (a fresh one seeded with SANDBOX_SEED unless `sandbox_app` is given).

    `sandbox_url` is where the sandbox is already served; without one it is served on a loopback port
    (the SDK-based clients need a socket) for the lifetime of the runtime, and its helpdesk's webhooks
    reach the conversation service in-process.
    """
    async with AsyncExitStack() as stack:
        app = sandbox_app or new_sandbox_app(settings)
        world_of(app).store_platform = settings.store_platform  # what inspection and the evals read
        world_of(app).helpdesk = settings.helpdesk  # the helpdesk the control API's ticket routes act on
        ensure_chat_backend(app, settings)
        served_here = sandbox_url is None
        if sandbox_url is None:
            sandbox_url = stack.enter_context(serve_in_thread(app))
        settings = demo_settings(settings, app, sandbox_url)
        runtime = await stack.enter_async_context(
            open_runtime(settings, model=model, persistence=persistence, clock=world_clock(app))
        )
        if served_here:
            connect_helpdesk_in_process(app, runtime.service, settings)
            connect_channels_in_process(app, runtime.service, settings)
        if runtime.parcel_watch is not None:
            await watch_sandbox_parcels(app, runtime)
            sweep_when_the_clock_moves(app, runtime)
        parts: dict[str, Any] = {
            field.name: getattr(runtime, field.name) for field in dataclasses.fields(Runtime)
        }
        yield DemoRuntime(**parts, sandbox_app=app, sandbox_url=sandbox_url)


def connect_channels_in_process(
    sandbox_app: FastAPI, service: GraphConversationService, settings: Settings
) -> None:
    """Without a chat server, the sandbox's Twilio (and EasyPost) webhooks go straight to the
    service's channels, signed and verified exactly as over HTTP (the signed URL is PUBLIC_URL's)."""
    home = asyncio.get_running_loop()
    ours = f"{settings.public_url.rstrip('/')}/webhooks/"
    handlers = {"twilio": "sms_channel", "easypost": "parcel_watch"}

    async def deliver(url: str, headers: dict[str, str], body: bytes) -> int:
        vendor = url[len(ours) :].split("/", 1)[0] if url.startswith(ours) else None
        handler = getattr(service, handlers[vendor], None) if vendor in handlers else None
        if handler is None:
            return await http_raw_sender(url, headers, body)
        try:
            if asyncio.get_running_loop() is home:
                await handler.receive(url, headers, body)
            else:
                future = asyncio.run_coroutine_threadsafe(handler.receive(url, headers, body), home)
                await asyncio.wrap_future(future)
        except WebhookError as exc:
            return exc.status
        except RuntimeError:  # the runtime has closed (a status callback arriving after the end)
            return 0
        except Exception:  # as a server would: the sender sees a 500, the error is in the log
            logger.exception("a %s webhook failed", vendor)
            return 500
        return 200

    sandbox_app.state.raw_webhook_sender = deliver
    point_vendor_webhooks(sandbox_app, settings)


async def watch_sandbox_parcels(sandbox_app: FastAPI, runtime: Runtime) -> int:
    """The demo store shipped its orders before the agent started: watch their parcels, as the store's
    fulfilment webhooks would have had the agent do."""
    watch = runtime.parcel_watch
    if watch is None:
        return 0
    world = world_of(sandbox_app)
    count = 0
    for order in world.shopify.orders.values():
        for fulfilment in order.get("fulfillments", []):
            code = fulfilment.get("tracking_number")
            if code and fulfilment.get("shipment_status") != "delivered":
                await watch.facts.watch_parcel(
                    code,
                    str(order["order_number"]),
                    fulfilment.get("tracking_company"),
                    world.now().timestamp(),
                )
                count += 1
    return count


def sweep_when_the_clock_moves(sandbox_app: FastAPI, runtime: Runtime) -> None:
    """Demo mode: moving the sandbox clock (`POST /_sandbox/clock`) runs the parcel sweep at once, so a
    person trying the demo sees a stuck parcel reported without waiting for the next round."""
    watch = runtime.parcel_watch
    if watch is None:
        return
    home = asyncio.get_running_loop()

    async def work() -> int:
        sent = await watch.sweep()
        await runtime.sync.drain()  # the tickets it opened, now rather than at the worker's next round
        return sent

    async def sweep() -> dict[str, Any]:
        if asyncio.get_running_loop() is home:
            sent = await work()
        else:
            sent = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work(), home))
        return {"notices": sent}

    sandbox_app.state.on_clock_moved = sweep


def point_vendor_webhooks(sandbox_app: FastAPI, settings: Settings) -> None:
    """The sandbox's Twilio number and EasyPost account post to this server's /webhooks/{vendor}."""
    hooks = world_of(sandbox_app).vendor_webhooks
    root = settings.public_url.rstrip("/")
    hooks.twilio_sms_url = hooks.twilio_sms_url or f"{root}/webhooks/twilio"
    hooks.easypost_url = hooks.easypost_url or f"{root}/webhooks/easypost"


def connect_helpdesk_in_process(
    sandbox_app: FastAPI, service: GraphConversationService, settings: Settings
) -> None:
    """Without a chat server, the sandbox helpdesk's webhooks go straight to the service.

    A person acting as the human agent through `/_sandbox/tickets/...` (in a notebook, the CLI
    or an eval) then reaches the conversation exactly as the real helpdesk's webhook would; its
    secret or signature is still checked.
    """
    header, secret = helpdesk_spec(settings.helpdesk).sandbox_webhook(settings)
    helpdesk = helpdesk_webhooks(settings)  # the configured adapter verifies and parses
    # The service and its clients live on this loop; the sandbox may call from its server thread.
    home = asyncio.get_running_loop()

    async def deliver(url: str, headers: dict[str, str], body: dict[str, Any]) -> int:
        if url != IN_PROCESS_WEBHOOK:
            return await http_webhook_sender(url, headers, body)
        raw = encode_body(body)
        try:
            if asyncio.get_running_loop() is home:
                handled = await receive_helpdesk_webhook(helpdesk, service, headers, raw)
            else:
                future = asyncio.run_coroutine_threadsafe(
                    receive_helpdesk_webhook(helpdesk, service, headers, raw), home
                )
                handled = await asyncio.wrap_future(future)
        except WebhookError as exc:
            return exc.status
        return 200 if handled else 202

    sandbox_app.state.webhook_sender = deliver
    world = world_of(sandbox_app)
    if not world.helpdesk_webhook.url:
        world.helpdesk_webhook.url = IN_PROCESS_WEBHOOK
        world.helpdesk_webhook.secret_header = header
        world.helpdesk_webhook.secret = secret
