"""The composition root: builds clients, adapters, the model, the graph and the service once.

Everything comes from the settings: the vendor settings say where each vendor is (the store's real
accounts, or wherever a caller has pointed them). This module knows nothing of the sandbox: the
demo wiring (`demo/`) serves the sandbox, points the settings at it and passes the hooks
`open_runtime` takes (a clock, a model).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from agent.events import LocalEvents, PostgresEvents
from agent.graph import AgentDeps, build_graph
from agent.guards import SqlGuards, derive_key, guard_key
from agent.helpdesks import HelpdeskConnection, helpdesk_spec
from agent.messaging_db import MessagingFacts
from agent.models import ConfigError, build_model, warm_up
from agent.outbox import CallPacer, HelpdeskSync, OutboxDB
from agent.parcel_watch import ParcelWatch
from agent.persistence import Persistence, memory_outbox, open_persistence
from agent.secret_strength import check_signing_secrets
from agent.service import GraphConversationService
from agent.settings import Settings
from agent.sms import SmsChannel
from agent.sms_notifier import SmsAlsoNotifier
from agent.startup_checks import check_vendor_setup
from agent.webhooks import bigcommerce_webhooks, shopify_webhooks, woocommerce_webhooks
from integrations._http import RetryPolicyFactory
from integrations.bigcommerce.adapter import BigCommerceCommerce
from integrations.bigcommerce.client import DEFAULT_API_BASE as BIGCOMMERCE_API
from integrations.bigcommerce.client import BigCommerceClient, bigcommerce_http_client
from integrations.domain import Address
from integrations.easypost.adapter import EasyPostShippingService
from integrations.easypost.client import EasyPostShipping
from integrations.easypost.webhooks import EasyPostWebhooks
from integrations.ports import Helpdesk
from integrations.sendgrid.adapter import SendGridNotifier
from integrations.sendgrid.client import SendGridMailer
from integrations.shopify.adapter import ShopifyCommerce
from integrations.shopify.client import ShopifyGraphQLClient, shopify_graphql_http_client
from integrations.stripe.adapter import StripeProcessor
from integrations.stripe.client import StripePayments
from integrations.twilio.client import TwilioMessaging
from integrations.twilio.webhooks import TwilioWebhooks
from integrations.woocommerce.adapter import WooCommerceCommerce
from integrations.woocommerce.client import WooCommerceClient, woocommerce_http_client
from tools.context import ToolDeps
from tools.help_content import HelpPages
from tools.policy import StorePolicy

logger = logging.getLogger(__name__)


# Settings that are also StorePolicy fields of the store-wide guards (a POLICY_FILE may override them).
GUARD_SETTINGS = (
    "verification_lockout_failures",
    "verification_client_lockout_failures",
    "verification_lockout_minutes",
    "verification_max_lockout_hours",
    "verification_quiet_hours",
    "max_labels_per_order",
    "max_handoffs_per_client_per_hour",
)


def step_up_key(settings: Settings) -> bytes:
    """The key of step-up code HMACs: derived from STORE_SECRET (every process agrees), and
    distinct from it, so a code digest never helps anyone forge a signed widget identity."""
    return derive_key(settings.store_secret.get_secret_value(), b"support-agent step-up codes v1")


def store_policy(settings: Settings) -> StorePolicy:
    """The policy from settings, overridden by POLICY_FILE when set."""
    defaults: dict[str, Any] = {
        "return_window_days": settings.return_window_days,
        "final_sale_tags": tuple(settings.final_sale_tags),
        "refund_auto_approve_limit": settings.refund_auto_approve_limit,
        "currency": settings.currency,
        **{name: getattr(settings, name) for name in GUARD_SETTINGS},
    }
    if settings.policy_file:
        return StorePolicy.from_yaml(settings.policy_file, **defaults)
    return StorePolicy(**defaults)


SDK_BASES = ("easypost_api_base", "stripe_api_base", "sendgrid_host", "twilio_api_base")
# Each store platform's API address, the secret signing its webhooks (sandbox values are public, so
# with them anyone could fake the store's webhooks) and its API key.
PLATFORM_SETTINGS: dict[str, tuple[str, str, str]] = {
    "shopify": ("shopify_api_base", "shopify_webhook_secret", "shopify_access_token"),
    "woocommerce": ("woocommerce_url", "woocommerce_webhook_secret", "woocommerce_consumer_secret"),
    # BigCommerce's API address is the same for every store: the store hash says which store.
    "bigcommerce": ("bigcommerce_store_hash", "bigcommerce_webhook_secret", "bigcommerce_access_token"),
}


def required_bases(settings: Settings) -> tuple[str, ...]:
    """The addresses that must not stay on the sandbox: the configured store platform's and the helpdesk's."""
    return (PLATFORM_SETTINGS[settings.store_platform][0], helpdesk_spec(settings.helpdesk).base_setting)


def signing_secrets(settings: Settings) -> tuple[str, ...]:
    """Secrets that prove a request came from the store or its helpdesk: with their public sandbox values
    anyone could sign a shopper's identity or fake a person approving a refund."""
    return (
        "store_secret",
        helpdesk_spec(settings.helpdesk).secret_setting,
        PLATFORM_SETTINGS[settings.store_platform][1],
    )


# API keys: a placeholder only makes the vendor refuse the calls, so it is a warning (the helpdesk's
# key is added from its spec).
PLACEHOLDER_KEYS = (
    "easypost_api_key",
    "stripe_api_key",
    "sendgrid_api_key",
)


def real_store_settings(settings: Settings) -> Settings:
    """Settings for SANDBOX_MODE=false: no vendor may silently stay on the sandbox.

    An SDK vendor's base left at its sandbox default means the vendor's own API; the store platform
    and helpdesk have no such default, so leaving them is a configuration error naming the setting.
    Signing secrets still holding their public sandbox values are an error too; API keys still holding
    placeholders are logged as warnings (the vendor refuses them anyway).
    """
    fields = Settings.model_fields
    woo_url = settings.woocommerce_url
    real_woo = settings.store_platform == "woocommerce" and woo_url != fields["woocommerce_url"].default
    if real_woo and not woo_url.startswith("https://"):
        raise ConfigError(
            "WOOCOMMERCE_URL must start with https://: WooCommerce's consumer key and secret travel as HTTP "
            "Basic credentials, in clear text over plain http."
        )
    if settings.store_platform == "bigcommerce":
        settings = _real_bigcommerce_base(settings)
    missing = [
        name.upper() for name in required_bases(settings) if getattr(settings, name) == fields[name].default
    ]
    if missing:
        raise ConfigError(
            f"SANDBOX_MODE=false but {', '.join(missing)} still point at the sandbox: set them to the store's "
            "real API addresses (README, 'Connecting a real store')."
        )
    secrets = signing_secrets(settings)
    public = [name.upper() for name in secrets if getattr(settings, name) == fields[name].default]
    if public:
        raise ConfigError(
            f"SANDBOX_MODE=false but {', '.join(public)} still hold the public sandbox values: set each to a long "
            "random secret (and the same value in Shopify or WooCommerce / Gorgias / your store's page signing)."
        )
    check_signing_secrets(settings, secrets)
    helpdesk_key = helpdesk_spec(settings.helpdesk).api_key_setting
    for name in (PLATFORM_SETTINGS[settings.store_platform][2], helpdesk_key, *PLACEHOLDER_KEYS):
        default = fields[name].default
        if isinstance(default, SecretStr) and getattr(settings, name) == default:
            logger.warning("%s still holds the sandbox placeholder; the vendor will refuse it", name.upper())
    updates: dict[str, Any] = {
        name: "" for name in SDK_BASES if getattr(settings, name) == fields[name].default
    }
    updates.update(_real_channel_settings(settings))
    return settings.model_copy(update=updates)


def _real_bigcommerce_base(settings: Settings) -> Settings:
    """BIGCOMMERCE_API_BASE left at the sandbox means BigCommerce's own API; another must be https."""
    base = settings.bigcommerce_api_base
    if base == Settings.model_fields["bigcommerce_api_base"].default:
        return settings.model_copy(update={"bigcommerce_api_base": BIGCOMMERCE_API})
    if not base.startswith("https://"):
        raise ConfigError(
            "BIGCOMMERCE_API_BASE must start with https://: the access token travels in a header."
        )
    return settings


def _real_channel_settings(settings: Settings) -> dict[str, Any]:
    """SMS stays off until Twilio is configured (its auth token also proves inbound texts are real), and
    tracking webhooks signed with the public sandbox secret are refused (the sweep still runs)."""
    fields = Settings.model_fields
    updates: dict[str, Any] = {}
    if settings.sms_enabled and settings.twilio_auth_token == fields["twilio_auth_token"].default:
        logger.warning(
            "SMS is off: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER to text shoppers"
        )
        updates["sms_enabled"] = False
    if settings.easypost_webhook_secret == fields["easypost_webhook_secret"].default:
        logger.warning(
            "EASYPOST_WEBHOOK_SECRET is not set: tracking webhooks are refused; the parcel sweep still runs"
        )
        updates["easypost_webhook_secret"] = SecretStr(secrets.token_urlsafe(32))
    return updates


@dataclass
class Services:
    """The vendor-neutral services plus the raw clients (for inspection and cache hooks)."""

    tools: ToolDeps
    shopify: ShopifyGraphQLClient | None
    commerce: ShopifyCommerce | WooCommerceCommerce | BigCommerceCommerce
    helpdesk: Helpdesk
    helpdesk_connection: HelpdeskConnection
    """The configured helpdesk (`HELPDESK`): its HTTP client (paced by the outbox worker) and budget."""

    @property
    def helpdesk_http(self) -> httpx.AsyncClient:
        return self.helpdesk_connection.http


def build_services(
    settings: Settings,
    stack: AsyncExitStack | None,
    *,
    clock: Callable[[], datetime] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    retry_policy: RetryPolicyFactory | None = None,
) -> Services:
    """Clients and adapters for the vendors in `settings`; their connections close with `stack`."""
    connection = helpdesk_spec(settings.helpdesk).connect(settings, transport, retry_policy)
    if stack is not None:
        stack.push_async_callback(connection.http.aclose)
    helpdesk = connection.helpdesk
    warehouse = Address(
        name=settings.return_address_name,
        address1=settings.return_address_street,
        city=settings.return_address_city,
        province_code=settings.return_address_state,
        zip=settings.return_address_zip,
        country_code="US",
    )
    shipping = EasyPostShippingService(
        EasyPostShipping(
            settings.easypost_api_key.get_secret_value(),
            settings.easypost_api_base or None,
            retry_policy=retry_policy,
        ),
        warehouse=warehouse,
        preferred_carrier=settings.return_carrier,
    )
    shopify: ShopifyGraphQLClient | None = None
    commerce: ShopifyCommerce | WooCommerceCommerce | BigCommerceCommerce
    match settings.store_platform:
        case "shopify":
            shopify_http = shopify_graphql_http_client(
                settings.shopify_api_base,
                settings.shopify_access_token.get_secret_value(),
                api_version=settings.shopify_api_version,
                transport=transport,
            )
            if stack is not None:
                stack.push_async_callback(shopify_http.aclose)
            shopify = ShopifyGraphQLClient(shopify_http, clock=clock, retry_policy=retry_policy)
            commerce = ShopifyCommerce(shopify, webhooks=shopify_webhooks(settings))
        case "woocommerce":
            woo_http = woocommerce_http_client(
                settings.woocommerce_url,
                settings.woocommerce_consumer_key.get_secret_value(),
                settings.woocommerce_consumer_secret.get_secret_value(),
                allow_http=settings.sandbox_mode,  # the consumer secret travels only over https otherwise
                transport=transport,
            )
            if stack is not None:
                stack.push_async_callback(woo_http.aclose)
            commerce = WooCommerceCommerce(
                WooCommerceClient(woo_http, retry_policy=retry_policy),
                webhooks=woocommerce_webhooks(settings),
                track=shipping.track,  # WooCommerce never learns of deliveries: the carrier does
                clock=clock,
            )
        case "bigcommerce":
            bc_http = bigcommerce_http_client(
                settings.bigcommerce_api_base,
                settings.bigcommerce_store_hash,
                settings.bigcommerce_access_token.get_secret_value(),
                transport=transport,
            )
            if stack is not None:
                stack.push_async_callback(bc_http.aclose)
            commerce = BigCommerceCommerce(
                BigCommerceClient(bc_http, retry_policy=retry_policy),
                webhooks=bigcommerce_webhooks(settings),
                track=shipping.track,  # BigCommerce never learns of deliveries either
                clock=clock,
            )
    payments = StripeProcessor(
        StripePayments(
            settings.stripe_api_key.get_secret_value(),
            settings.stripe_api_base or None,
            retry_policy=retry_policy,
        )
    )
    notifier = SendGridNotifier(
        SendGridMailer(
            settings.sendgrid_api_key.get_secret_value(),
            settings.sendgrid_host or None,
            from_email=settings.mail_from,
            team_email=settings.team_email,
            retry_policy=retry_policy,
        ),
        team_email=settings.team_email,
    )
    tools = ToolDeps(
        commerce=commerce,
        payments=payments,
        shipping=shipping,
        helpdesk=helpdesk,
        notifier=SmsAlsoNotifier(notifier, commerce) if settings.sms_enabled else notifier,
        policy=store_policy(settings),
        clock=clock or (lambda: datetime.now(UTC)),
        step_up_key=step_up_key(settings),
        knowledge=knowledge_base(settings),
    )
    return Services(
        tools=tools,
        shopify=shopify,
        commerce=commerce,
        helpdesk=helpdesk,
        helpdesk_connection=connection,
    )


DEFAULT_STORE_NAME = "our store"


def knowledge_base(settings: Settings) -> HelpPages:
    """The store's help content from KNOWLEDGE_DIR (read on first use), its rules filled from the store
    policy."""
    name = (settings.store_name or "").strip() or DEFAULT_STORE_NAME
    return HelpPages(settings.knowledge_dir, store_policy(settings), name)


def store_name(settings: Settings) -> str:
    """The shop's name the assistant uses: STORE_NAME, or a neutral phrase (with a warning)."""
    if settings.store_name and settings.store_name.strip():
        return settings.store_name.strip()
    logger.warning(
        "STORE_NAME is not set: the assistant calls the shop %r; set STORE_NAME to its name",
        DEFAULT_STORE_NAME,
    )
    return DEFAULT_STORE_NAME


@dataclass
class Runtime:
    """Everything a running agent is made of. Built once per process."""

    settings: Settings
    model: BaseChatModel
    services: Services
    persistence: Persistence
    service: GraphConversationService
    sync: HelpdeskSync
    graph: Any
    guards: SqlGuards | None = None
    sms: SmsChannel | None = None
    parcel_watch: ParcelWatch | None = None


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    model: BaseChatModel | None = None,
    persistence: Persistence | None = None,
    clock: Callable[[], datetime] | None = None,
) -> AsyncIterator[Runtime]:
    """Build the agent for these settings; everything closes when the context exits.

    With SANDBOX_MODE=false the settings must name the store's real vendors (`real_store_settings`);
    with SANDBOX_MODE=true the caller has pointed them at a sandbox it serves (`demo/`). `clock`
    replaces the wall clock (the sandbox's world has its own); `model` replaces the one MODEL names.
    """
    async with AsyncExitStack() as stack:
        if not settings.sandbox_mode:
            settings = real_store_settings(settings)
            await check_vendor_setup(settings)  # warns of what would fail later (MAIL_FROM, scopes, version)
        services = build_services(settings, stack, clock=clock)
        chat_model = model or build_model(settings, clock=services.tools.clock)
        await warm_up(chat_model)
        if persistence is None:
            persistence = await stack.enter_async_context(open_persistence(settings))
        services.tools.journal = persistence.store  # side-effect steps recorded as they complete
        key = guard_key(settings.store_secret.get_secret_value())
        outbox: OutboxDB
        if persistence.outbox is not None and persistence.guards is not None:
            outbox, guards = persistence.outbox, persistence.guards
        else:
            outbox, guards = await stack.enter_async_context(memory_outbox(key))
        # Throttles and label facts are store-wide: every conversation of every process shares them.
        services.tools.guards = guards
        # The helpdesk's client is only used by the outbox worker: pace it within the account's budget.
        connection = services.helpdesk_connection
        pacer = CallPacer(
            outbox,
            connection.account,
            limit=settings.helpdesk_call_limit or connection.budget.limit,
            window_seconds=settings.helpdesk_call_window_seconds or connection.budget.window_seconds,
            usage=connection.budget.read_usage,
        )
        pacer.install(connection.http)
        sync = HelpdeskSync(outbox, services.helpdesk, services.tools.notifier)
        graph = build_graph(
            chat_model,
            AgentDeps(
                tools=services.tools,
                store_name=store_name(settings),
                max_model_calls_per_turn=settings.max_model_calls_per_turn,
                contact_email=settings.mail_from,
            ),
            checkpointer=persistence.checkpointer,
        )
        events = LocalEvents()
        if settings.database_url:
            # Several server processes share this database: share pushed events through it too.
            shared = PostgresEvents(settings.database_url)
            await shared.start()
            stack.push_async_callback(shared.close)
            events = shared
        service = GraphConversationService(
            graph,
            persistence.store,
            sync,
            on_store_event=services.commerce.on_store_event,
            events=events,
            client_key=key,
            step_up_key=services.tools.step_up_key,
            max_concurrent_turns=settings.max_concurrent_turns,
        )
        facts = MessagingFacts(guards)
        await facts.setup()
        sms = open_sms_channel(settings, services, facts, service, clock=services.tools.clock)
        parcel_watch = open_parcel_watch(settings, services, facts, service, sms, clock=services.tools.clock)
        parcel_watch.start(settings.parcel_sweep_minutes * 60)
        stack.push_async_callback(parcel_watch.stop)
        if settings.helpdesk_sync_worker:
            sync.start()
            stack.push_async_callback(sync.stop)
        yield Runtime(
            settings=settings,
            model=chat_model,
            services=services,
            persistence=persistence,
            service=service,
            sync=sync,
            graph=graph,
            guards=guards,
            sms=sms,
            parcel_watch=parcel_watch,
        )


def open_sms_channel(
    settings: Settings,
    services: Services,
    facts: MessagingFacts,
    service: GraphConversationService,
    *,
    clock: Callable[[], datetime],
) -> SmsChannel | None:
    """Texts through Twilio (SMS_ENABLED): the channel, its store-wide facts, and the hooks that let
    notifications and a person's replies reach the shopper's phone."""
    if not settings.sms_enabled:
        return None
    token = settings.twilio_auth_token.get_secret_value()
    channel = SmsChannel(
        messaging=TwilioMessaging(
            settings.twilio_account_sid,
            token,
            from_number=settings.twilio_from_number,
            api_root=settings.twilio_api_base or None,
        ),
        webhooks=TwilioWebhooks(token, account_sid=settings.twilio_account_sid),
        facts=facts,
        service=service,
        commerce=services.commerce,
        clock=clock,
        store_name=store_name(settings),
        contact_email=settings.mail_from,
        public_url=settings.public_url,
        region=settings.sms_default_region,
    )
    service.on_pushed_messages = channel.pushed_messages
    service.sms_channel = channel
    notifier = services.tools.notifier
    if isinstance(notifier, SmsAlsoNotifier):
        notifier.channel = channel
    return channel


def open_parcel_watch(
    settings: Settings,
    services: Services,
    facts: MessagingFacts,
    service: GraphConversationService,
    sms: SmsChannel | None,
    *,
    clock: Callable[[], datetime],
) -> ParcelWatch:
    """Parcels watched from shipping to delivery: tracking webhooks at /webhooks/easypost, a sweep."""
    tools = services.tools
    watch = ParcelWatch(
        facts=facts,
        service=service,
        commerce=services.commerce,
        shipping=tools.shipping,
        notifier=tools.notifier,
        webhooks=EasyPostWebhooks(settings.easypost_webhook_secret.get_secret_value()),
        policy=lambda: tools.policy,
        clock=clock,
        public_url=settings.public_url,
        sms=sms,
        region=settings.sms_default_region,
    )
    service.parcel_watch = watch
    service.also_on_store_event(watch.on_store_event)
    return watch


@asynccontextmanager
async def open_conversation_service(settings: Settings) -> AsyncIterator[GraphConversationService]:
    """The chat server's default: the conversation service of a runtime built from `settings`."""
    async with open_runtime(settings) as runtime:
        yield runtime.service
