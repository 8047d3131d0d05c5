"""Which helpdesk the agent mirrors conversations to (`HELPDESK`), and how each is built.

Adding a helpdesk takes four pieces, each beside the ones of the helpdesks already here:

1. `integrations/<vendor>/`: the client (handed an `httpx.AsyncClient` it did not create), the
   adapter implementing `integrations.ports.Helpdesk` (tickets, messages, tags, status) and its
   webhook protocol (verify, parse into `integrations.events`, dedupe keys, its tag conventions),
   plus the vendor's documented API budget as an `integrations.budget.CallBudget`.
2. A `HelpdeskSpec` in `HELPDESK_SPECS` below (and the name in the `HELPDESK` setting's Literal):
   the settings a real store must change, how to connect (client, adapter, the HTTP client the
   outbox worker paces, the budget) and how to build the webhook side alone.
3. `sandbox/vendors/<vendor>.py`: the emulator of the API the client calls, mounted in
   `sandbox/app.py` under `VENDOR_BASES`, with the vendor's auth, errors, pagination and limits.
4. `sandbox/helpdesks/<vendor>.py`: the control API's desk for it (the vendor-neutral ticket view
   tests and evals read; reply / close / hand back / approve / deny changing that vendor's state
   and the webhook it would send, signed as it signs them), registered in `sandbox/helpdesks`.

A name in the Literal without a spec is refused when the agent is built, with a message saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from agent.models import ConfigError
from agent.settings import Settings
from integrations._http import RetryPolicyFactory
from integrations.budget import CallBudget
from integrations.front.adapter import FrontHelpdesk
from integrations.front.client import CALL_BUDGET as FRONT_BUDGET
from integrations.front.client import FrontClient, front_http_client
from integrations.front.protocol import FrontProtocol
from integrations.gorgias.adapter import GorgiasHelpdesk
from integrations.gorgias.client import CALL_BUDGET as GORGIAS_BUDGET
from integrations.gorgias.client import GorgiasClient, gorgias_http_client
from integrations.gorgias.protocol import GorgiasProtocol
from integrations.intercom.adapter import IntercomHelpdesk
from integrations.intercom.client import CALL_BUDGET as INTERCOM_BUDGET
from integrations.intercom.client import IntercomClient, intercom_http_client
from integrations.intercom.protocol import SIGNATURE_HEADER as INTERCOM_SIGNATURE_HEADER
from integrations.intercom.protocol import IntercomProtocol
from integrations.ports import Helpdesk, HelpdeskWebhooks
from integrations.zendesk.adapter import ZendeskHelpdesk
from integrations.zendesk.client import CALL_BUDGET as ZENDESK_BUDGET
from integrations.zendesk.client import ZendeskClient, zendesk_http_client
from integrations.zendesk.protocol import ZendeskProtocol


@dataclass
class HelpdeskConnection:
    """A connected helpdesk: the adapter, the HTTP client the outbox worker paces, and its budget."""

    helpdesk: Helpdesk
    http: httpx.AsyncClient
    budget: CallBudget
    account: str
    """Who shares the budget: every process delivering for this account books the same slots."""
    client: object | None = None
    """The vendor's own client, for inspection (tests, benchmarks)."""


Connect = Callable[[Settings, httpx.AsyncBaseTransport | None, RetryPolicyFactory | None], HelpdeskConnection]


@dataclass(frozen=True)
class HelpdeskSpec:
    """What the composition root needs to know of one helpdesk."""

    base_setting: str
    """The API address setting: a real store (SANDBOX_MODE=false) must not leave it on the sandbox."""
    secret_setting: str
    """The secret that proves a webhook came from the helpdesk (its public sandbox value is refused)."""
    api_key_setting: str
    """The API credential (a placeholder only draws a warning: the vendor refuses it anyway)."""
    connect: Connect
    webhooks: Callable[[Settings], HelpdeskWebhooks]
    sandbox_webhook: Callable[[Settings], tuple[str, str]]
    """(header, secret) the sandbox's desk signs its deliveries with, as the vendor would."""


# ------------------------------------------------------------------------------------- Gorgias


def gorgias_protocol(settings: Settings) -> GorgiasProtocol:
    return GorgiasProtocol(
        secret_header=settings.gorgias_webhook_header,
        secret=settings.gorgias_webhook_secret.get_secret_value(),
    )


def gorgias_ticket_url(settings: Settings) -> str:
    """Where a person opens a ticket: Gorgias's app, or the sandbox's ticket view."""
    base = settings.gorgias_base_url.rstrip("/")
    if "/gorgias/api" in base:  # the sandbox
        return base.replace("/gorgias/api", "/_sandbox/tickets/{id}")
    return base.removesuffix("/api") + "/app/ticket/{id}"


def connect_gorgias(
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None,
    retry_policy: RetryPolicyFactory | None,
) -> HelpdeskConnection:
    http = gorgias_http_client(
        settings.gorgias_base_url,
        settings.gorgias_email,
        settings.gorgias_api_key.get_secret_value(),
        transport=transport,
    )
    client = GorgiasClient(http, retry_policy=retry_policy)
    helpdesk = GorgiasHelpdesk(
        client, ticket_url=gorgias_ticket_url(settings), protocol=gorgias_protocol(settings)
    )
    return HelpdeskConnection(
        helpdesk=helpdesk,
        http=http,
        budget=GORGIAS_BUDGET,
        account=f"{settings.gorgias_base_url}#{settings.gorgias_email}",
        client=client,
    )


GORGIAS = HelpdeskSpec(
    base_setting="gorgias_base_url",
    secret_setting="gorgias_webhook_secret",  # noqa: S106 - a setting's name, not a secret
    api_key_setting="gorgias_api_key",
    connect=connect_gorgias,
    webhooks=gorgias_protocol,
    sandbox_webhook=lambda s: (s.gorgias_webhook_header, s.gorgias_webhook_secret.get_secret_value()),
)

# ------------------------------------------------------------------------------------- Zendesk


def zendesk_protocol(settings: Settings) -> ZendeskProtocol:
    return ZendeskProtocol(
        secret=settings.zendesk_webhook_secret.get_secret_value(),
        max_age_seconds=settings.zendesk_webhook_max_age_seconds,
    )


def zendesk_ticket_url(settings: Settings) -> str:
    """Where a person opens a ticket: the agent workspace, or the sandbox's ticket view."""
    base = settings.zendesk_base_url.rstrip("/")
    if "/zendesk/api/v2" in base:  # the sandbox
        return base.replace("/zendesk/api/v2", "/_sandbox/tickets/{id}")
    return base.removesuffix("/api/v2") + "/agent/tickets/{id}"


def connect_zendesk(
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None,
    retry_policy: RetryPolicyFactory | None,
) -> HelpdeskConnection:
    http = zendesk_http_client(
        settings.zendesk_base_url,
        settings.zendesk_email,
        settings.zendesk_api_token.get_secret_value(),
        transport=transport,
    )
    client = ZendeskClient(http, retry_policy=retry_policy)
    helpdesk = ZendeskHelpdesk(
        client, ticket_url=zendesk_ticket_url(settings), protocol=zendesk_protocol(settings)
    )
    # The limit is the account's, whoever calls: every token of the account shares the budget.
    return HelpdeskConnection(
        helpdesk=helpdesk, http=http, budget=ZENDESK_BUDGET, account=settings.zendesk_base_url, client=client
    )


ZENDESK = HelpdeskSpec(
    base_setting="zendesk_base_url",
    secret_setting="zendesk_webhook_secret",  # noqa: S106 - a setting's name, not a secret
    api_key_setting="zendesk_api_token",
    connect=connect_zendesk,
    webhooks=zendesk_protocol,
    sandbox_webhook=lambda s: ("", s.zendesk_webhook_secret.get_secret_value()),
)

# ------------------------------------------------------------------------------------- Front


def front_protocol(settings: Settings) -> FrontProtocol:
    return FrontProtocol(
        secret=settings.front_app_secret.get_secret_value(),
        max_age_seconds=settings.front_webhook_max_age_seconds,
    )


def front_ticket_url(settings: Settings) -> str:
    """Where a person opens a conversation: Front's app, or the sandbox's ticket view."""
    base = settings.front_base_url.rstrip("/")
    if base.endswith("/front"):  # the sandbox
        return base.removesuffix("/front") + "/_sandbox/tickets/{id}"
    return "https://app.frontapp.com/open/{api_id}"


def connect_front(
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None,
    retry_policy: RetryPolicyFactory | None,
) -> HelpdeskConnection:
    http = front_http_client(
        settings.front_base_url, settings.front_api_token.get_secret_value(), transport=transport
    )
    client = FrontClient(http, channel_id=settings.front_channel_id, retry_policy=retry_policy)
    helpdesk = FrontHelpdesk(client, ticket_url=front_ticket_url(settings), protocol=front_protocol(settings))
    # Front's limit is the company's, whichever token calls: the channel names the company here.
    return HelpdeskConnection(
        helpdesk=helpdesk,
        http=http,
        budget=FRONT_BUDGET,
        account=f"{settings.front_base_url}#{settings.front_channel_id}",
        client=client,
    )


FRONT = HelpdeskSpec(
    base_setting="front_base_url",
    secret_setting="front_app_secret",  # noqa: S106 - a setting's name, not a secret
    api_key_setting="front_api_token",
    connect=connect_front,
    webhooks=front_protocol,
    sandbox_webhook=lambda s: ("", s.front_app_secret.get_secret_value()),
)

# ------------------------------------------------------------------------------------- Intercom


def intercom_protocol(settings: Settings) -> IntercomProtocol:
    return IntercomProtocol(
        secret=settings.intercom_client_secret.get_secret_value(),
        bot_admin_id=settings.intercom_bot_admin_id,
    )


def intercom_ticket_url(settings: Settings) -> str:
    """Where a person opens a conversation: Intercom's inbox, or the sandbox's ticket view."""
    base = settings.intercom_base_url.rstrip("/")
    if base.endswith("/intercom"):  # the sandbox
        return base.removesuffix("/intercom") + "/_sandbox/tickets/{id}"
    if not settings.intercom_workspace_id:
        return ""
    return f"https://app.intercom.com/a/inbox/{settings.intercom_workspace_id}/inbox/conversation/{{id}}"


def connect_intercom(
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None,
    retry_policy: RetryPolicyFactory | None,
) -> HelpdeskConnection:
    http = intercom_http_client(
        settings.intercom_base_url,
        settings.intercom_access_token.get_secret_value(),
        api_version=settings.intercom_api_version,
        transport=transport,
    )
    client = IntercomClient(http, admin_id=settings.intercom_bot_admin_id, retry_policy=retry_policy)
    helpdesk = IntercomHelpdesk(
        client,
        ticket_url=intercom_ticket_url(settings),
        protocol=intercom_protocol(settings),
        handoff_assignee=settings.intercom_handoff_assignee,
    )
    # The limit is the app's (per access token), shared by every process using it.
    account = f"{settings.intercom_base_url}#{settings.intercom_bot_admin_id}"
    return HelpdeskConnection(
        helpdesk=helpdesk, http=http, budget=INTERCOM_BUDGET, account=account, client=client
    )


INTERCOM = HelpdeskSpec(
    base_setting="intercom_base_url",
    secret_setting="intercom_client_secret",  # noqa: S106 - a setting's name, not a secret
    api_key_setting="intercom_access_token",
    connect=connect_intercom,
    webhooks=intercom_protocol,
    sandbox_webhook=lambda s: (INTERCOM_SIGNATURE_HEADER, s.intercom_client_secret.get_secret_value()),
)

# ------------------------------------------------------------------------------------- the registry

HELPDESK_SPECS: dict[str, HelpdeskSpec] = {
    "gorgias": GORGIAS,
    "zendesk": ZENDESK,
    "front": FRONT,
    "intercom": INTERCOM,
}


def helpdesk_spec(name: str) -> HelpdeskSpec:
    """The spec of the helpdesk `HELPDESK` names; a clear error for one not built yet."""
    spec = HELPDESK_SPECS.get(name)
    if spec is None:
        available = ", ".join(sorted(HELPDESK_SPECS))
        raise ConfigError(f"HELPDESK={name} is not available yet; this version supports: {available}.")
    return spec
