"""The helpdesk seam: `HELPDESK` picks the adapter, its webhook side and its budget; the sandbox's
control API acts on `world.helpdesk` through that helpdesk's desk."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from agent.deps import build_services
from agent.helpdesks import HELPDESK_SPECS, helpdesk_spec
from agent.models import ConfigError
from agent.settings import Settings
from agent.webhooks import HELPDESKS, helpdesk_webhooks
from integrations.budget import limit_and_remaining, used_of_allowed
from integrations.gorgias.client import CALL_BUDGET
from sandbox.app import create_sandbox_app
from sandbox.helpdesks import DESKS, snapshot_ticket_views, ticket_views
from sandbox.world import World


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_every_built_helpdesk_is_a_setting_and_has_a_desk() -> None:
    assert set(HELPDESK_SPECS) <= set(HELPDESKS)
    assert set(HELPDESK_SPECS) == set(DESKS)


def test_a_helpdesk_not_built_yet_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every name of the setting is built today: take one out of the registry to see the refusal.
    name = "front"
    monkeypatch.delitem(HELPDESK_SPECS, name)
    with pytest.raises(ConfigError, match=f"HELPDESK={name} is not available yet"):
        build_services(settings(helpdesk=name), None)
    with pytest.raises(ConfigError, match="not available yet"):
        helpdesk_webhooks(settings(helpdesk=name))


def test_the_composition_takes_the_budget_and_account_from_the_spec() -> None:
    services = build_services(settings(helpdesk="gorgias"), None)
    connection = services.helpdesk_connection
    assert connection.budget == CALL_BUDGET
    assert (connection.budget.limit, connection.budget.window_seconds) == (40, 20.0)
    assert connection.account.endswith("#agent@sandbox.test")
    assert services.helpdesk_http is connection.http
    assert helpdesk_spec("gorgias").base_setting == "gorgias_base_url"


def test_budget_headers_are_read_per_vendor() -> None:
    gorgias = used_of_allowed("X-Gorgias-Account-Api-Call-Limit")
    assert gorgias(httpx.Headers({"x-gorgias-account-api-call-limit": "12/40"})) == (12, 40)
    assert gorgias(httpx.Headers({})) == (None, None)
    two = limit_and_remaining("X-Rate-Limit", "X-Rate-Limit-Remaining")
    assert two(httpx.Headers({"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "650"})) == (50, 700)
    assert two(httpx.Headers({"X-Rate-Limit": "700"})) == (None, 700)


async def test_the_control_api_refuses_a_helpdesk_the_sandbox_lacks(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every helpdesk has its desk today: take one away to see the refusal.
    missing = "intercom"
    monkeypatch.delitem(DESKS, missing)
    world.helpdesk = missing  # type: ignore[assignment]
    app = create_sandbox_app(world)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        listing = await http.get("/_sandbox/tickets")
        acting = await http.post("/_sandbox/tickets/1/close")
    assert listing.status_code == 501 and acting.status_code == 501
    assert missing in listing.json()["detail"]


async def test_gorgias_views_are_its_tickets_and_the_snapshot_reads_the_same(world: World) -> None:
    app = create_sandbox_app(world)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        listed = (await http.get("/_sandbox/tickets")).json()
    assert [t["id"] for t in listed] == sorted(world.gorgias.tickets)
    assert ticket_views(world) == snapshot_ticket_views(world.snapshot()) == listed


def test_a_real_store_on_zendesk_must_leave_the_sandbox_and_its_public_secret() -> None:
    from agent.deps import real_store_settings

    base = {
        "sandbox_mode": False,
        "helpdesk": "zendesk",
        "shopify_api_base": "https://acme.myshopify.com/admin/api",
        "shopify_webhook_secret": "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",
        "store_secret": "kX9vQ2mZ7pL4wR8tN1bF6hJ3yC5dG0sAe",
    }
    with pytest.raises(ConfigError, match="ZENDESK_BASE_URL") as on_sandbox:
        real_store_settings(settings(**base))
    assert "GORGIAS_BASE_URL" not in str(on_sandbox.value)
    with pytest.raises(ConfigError, match="ZENDESK_WEBHOOK_SECRET"):
        real_store_settings(settings(**base, zendesk_base_url="https://acme.zendesk.com/api/v2"))
    ready = real_store_settings(
        settings(
            **base,
            zendesk_base_url="https://acme.zendesk.com/api/v2",
            zendesk_webhook_secret="Tq8Lz3Wn6Rv1Yp4Kc9Mx2Hb7Js5Df0Gu",
        )
    )
    assert ready.helpdesk == "zendesk"


def test_zendesk_ticket_links_open_the_agent_workspace() -> None:
    from agent.helpdesks import zendesk_ticket_url

    assert zendesk_ticket_url(settings(zendesk_base_url="https://acme.zendesk.com/api/v2")) == (
        "https://acme.zendesk.com/agent/tickets/{id}"
    )
    assert zendesk_ticket_url(settings(zendesk_base_url="http://h/sandbox/zendesk/api/v2")) == (
        "http://h/sandbox/_sandbox/tickets/{id}"
    )


def test_the_sandbox_zendesk_desk_uses_the_adapters_tag_names() -> None:
    """The emulated team decides with the tags the Zendesk protocol reads (the sandbox keeps its copy)."""
    from integrations import helpdesk_tags as protocol
    from sandbox.helpdesks import zendesk as desk

    assert (desk.HANDBACK_TAG, desk.APPROVED_TAG, desk.DENIED_TAG) == (
        protocol.HANDBACK_TAG,
        protocol.APPROVED_TAG,
        protocol.DENIED_TAG,
    )


def test_intercom_is_composed_with_its_own_budget_account_and_webhook_side() -> None:
    from integrations.intercom.client import CALL_BUDGET as INTERCOM_BUDGET
    from integrations.intercom.protocol import IntercomProtocol

    services = build_services(settings(helpdesk="intercom"), None)
    connection = services.helpdesk_connection
    assert connection.budget == INTERCOM_BUDGET
    assert (connection.budget.limit, connection.budget.window_seconds) == (1666, 10.0)
    assert connection.account.endswith("/intercom#7451001")
    assert connection.http.headers["Intercom-Version"] == "2.14"
    webhooks = helpdesk_webhooks(settings(helpdesk="intercom", intercom_bot_admin_id="42"))
    assert isinstance(webhooks, IntercomProtocol) and webhooks.bot_admin_id == "42"
    assert helpdesk_spec("intercom").sandbox_webhook(settings()) == (
        "X-Hub-Signature",
        "intercom_client_secret_sandbox",
    )
