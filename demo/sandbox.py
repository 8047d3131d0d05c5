"""The sandbox as the demo store: a fresh sandbox app, and settings that point every client at it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from pydantic import SecretStr

from agent.models import build_model
from agent.settings import Settings
from demo.openai_compat import attach_chat_backend
from sandbox.app import VENDOR_BASES, create_sandbox_app
from sandbox.seed import load_seed
from sandbox.world import World

OFFLINE_OVER_OPENAI = "openai:offline"


def sandbox_settings(settings: Settings, sandbox_url: str) -> Settings:
    """Settings with every vendor pointed at a sandbox root URL."""
    root = sandbox_url.rstrip("/")
    return settings.model_copy(
        update={
            "shopify_api_base": f"{root}{VENDOR_BASES['shopify']}/api",
            "woocommerce_url": f"{root}/woocommerce",  # the client adds /wp-json/wc/v3
            "bigcommerce_api_base": f"{root}{VENDOR_BASES['bigcommerce']}",  # the client adds /stores/{hash}
            "gorgias_base_url": f"{root}{VENDOR_BASES['gorgias']}",
            "zendesk_base_url": f"{root}{VENDOR_BASES['zendesk']}",
            "front_base_url": f"{root}{VENDOR_BASES['front']}",
            "intercom_base_url": f"{root}{VENDOR_BASES['intercom']}",
            "easypost_api_base": f"{root}{VENDOR_BASES['easypost']}",
            "stripe_api_base": f"{root}/stripe",  # the Stripe SDK adds /v1 itself
            "sendgrid_host": f"{root}/sendgrid",  # and SendGrid's adds /v3
            "twilio_api_base": f"{root}/twilio",  # the Twilio SDK adds /2010-04-01
        }
    )


def world_of(sandbox_app: FastAPI) -> World:
    """The world the sandbox app holds now (a reset replaces it)."""
    world: World = sandbox_app.state.world
    return world


def world_clock(sandbox_app: FastAPI) -> Callable[[], datetime]:
    """The sandbox's clock: whatever world the app holds when asked."""

    def now() -> datetime:
        return world_of(sandbox_app).now()

    return now


def demo_settings(settings: Settings, sandbox_app: FastAPI, sandbox_url: str) -> Settings:
    """The agent's settings on a sandbox served at `sandbox_url`: every vendor there, the store named
    as the sandbox store unless STORE_NAME says otherwise, and `openai:offline` answered by the
    sandbox's own OpenAI endpoint unless OPENAI_BASE_URL names another server."""
    world = world_of(sandbox_app)
    update: dict[str, Any] = {"sandbox_mode": True}
    if not (settings.store_name and settings.store_name.strip()):
        update["store_name"] = world.shopify.shop_name
    if settings.model.strip() == OFFLINE_OVER_OPENAI and not settings.openai_base_url:
        update["openai_base_url"] = f"{sandbox_url.rstrip('/')}{VENDOR_BASES['openai']}"
        update["openai_api_key"] = SecretStr(world.credentials.openai_api_key)
    return sandbox_settings(settings, sandbox_url).model_copy(update=update)


def new_sandbox_app(settings: Settings) -> FastAPI:
    """A fresh sandbox seeded with SANDBOX_SEED."""
    return create_sandbox_app(seed=load_seed(settings.sandbox_seed))


def ensure_chat_backend(sandbox_app: FastAPI, settings: Settings) -> None:
    """Something must answer the sandbox's OpenAI endpoint: the offline model unless a test set one."""
    if getattr(sandbox_app.state, "chat_backend", None) is None:
        attach_chat_backend(sandbox_app, build_model(settings, "offline", clock=world_clock(sandbox_app)))
