"""The one reader of the environment: every setting the product has, with its meaning.

Values come from environment variables or a `.env` file (see `.env.example`). Defaults are the
demo: the offline model, the sandbox store and a SQLite file, so nothing needs configuring to
try the product. Secrets are `SecretStr`: they never appear in logs, reprs or errors.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]
SANDBOX_URL = "http://127.0.0.1:8000/sandbox"


class Settings(BaseSettings):
    """Every setting. Environment variable = field name in upper case unless an alias is given."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    # --- the model -------------------------------------------------------------------------
    model: str = Field(
        "offline",
        description="`offline` (built-in, no key) or `openai:<model name>`, e.g. openai:gpt-4o-mini.",
    )
    openai_api_key: SecretStr | None = Field(None, description="Key for `openai:` models.")
    openai_base_url: str | None = Field(
        None, description="Any OpenAI-compatible server (vLLM, Ollama, llama.cpp, Azure); empty for OpenAI."
    )
    model_timeout_seconds: float = Field(60.0, description="Per model call.")
    max_model_calls_per_turn: int = Field(8, description="Bound on model calls within one shopper turn.")

    # --- where conversations are kept ---------------------------------------------------------
    database_url: str | None = Field(
        None,
        description="PostgreSQL URL for conversations, checkpoints and pushed events (several server processes); SQLite when empty.",
    )
    sqlite_path: Path = Field(
        Path("var/support-agent.sqlite"), description="SQLite file for conversations and checkpoints."
    )
    database_pool_size: int = Field(
        10, ge=2, description="PostgreSQL connections per server process (checkpoints, store, outbox)."
    )
    max_concurrent_turns: int = Field(
        16,
        ge=1,
        description="Shopper turns run at once per server process; later ones wait in arrival order, their message saved first. Raise it when turns mostly wait on slow vendors.",
    )
    helpdesk_sync_worker: bool = Field(
        True,
        description="Deliver the helpdesk outbox from this process (each process can; they share the work and the budget).",
    )
    helpdesk_call_limit: int | None = Field(
        None,
        ge=1,
        description="Helpdesk API calls allowed per window; empty: the helpdesk's documented figure (Gorgias: 40 per 20 s). A limit the helpdesk announces wins.",
    )
    helpdesk_call_window_seconds: float | None = Field(
        None, gt=0, description="The helpdesk's rate-limit window; empty: the helpdesk's documented one."
    )

    # --- the store -----------------------------------------------------------------------------
    store_name: str | None = Field(
        None,
        description="The shop's name as the assistant says it; demo: the sandbox store's, otherwise \"our store\" (with a warning).",
    )

    # --- demo mode -----------------------------------------------------------------------------
    sandbox_mode: bool = Field(
        True, description="Serve the sandbox store under /sandbox and point every client at it."
    )
    sandbox_seed: str = Field("demo_store", description="Seed of the sandbox world: a name or a JSON path.")
    sandbox_control_token: SecretStr | None = Field(
        None,
        description="Bearer token the sandbox control API (/_sandbox/) requires; needed to serve the demo beyond loopback.",
    )

    # --- which vendors --------------------------------------------------------------------------
    store_platform: Literal["shopify", "woocommerce", "bigcommerce"] = Field(
        "shopify",
        description="Store platform adapter (orders, refunds and the store webhooks at /webhooks/{platform}): shopify, woocommerce or bigcommerce.",
    )
    helpdesk: Literal["gorgias", "zendesk", "front", "intercom"] = Field(
        "gorgias",
        description="Helpdesk adapter (tickets, hand-offs and the helpdesk webhooks at /webhooks/{helpdesk}): gorgias, zendesk, front or intercom.",
    )

    # --- Shopify ------------------------------------------------------------------------------
    shopify_api_base: str = Field(
        f"{SANDBOX_URL}/shopify/admin/api",
        description="Shopify Admin API root, e.g. https://SHOP.myshopify.com/admin/api for a real store (a version at its end gives way to SHOPIFY_API_VERSION).",
    )
    shopify_api_version: str = Field(
        "2026-10",
        pattern=r"^(\d{4}-(01|04|07|10)|unstable)$",
        description="Shopify API version, e.g. 2026-10: one of the four stable versions Shopify supports (it serves a retired one with its oldest supported).",
    )
    shopify_access_token: SecretStr = Field(SecretStr("shpat_sandbox"), description="Admin API access token.")
    shopify_webhook_secret: SecretStr = Field(
        SecretStr("shopify_webhook_sandbox"), description="App secret that signs Shopify webhooks."
    )

    # --- WooCommerce --------------------------------------------------------------------------
    woocommerce_url: str = Field(
        f"{SANDBOX_URL}/woocommerce",
        description="The WooCommerce store's address, e.g. https://shop.example (https is required for a real store; /wp-json/wc/v3 is added).",
    )
    woocommerce_consumer_key: SecretStr = Field(
        SecretStr("ck_sandbox"),
        description="REST API consumer key (WooCommerce > Settings > Advanced > REST API), Read/Write.",
    )
    woocommerce_consumer_secret: SecretStr = Field(
        SecretStr("cs_sandbox"), description="REST API consumer secret of that key."
    )
    woocommerce_webhook_secret: SecretStr = Field(
        SecretStr("woocommerce_webhook_sandbox"),
        description="Secret of the store's webhooks (WooCommerce > Settings > Advanced > Webhooks), which signs each delivery.",
    )

    # --- BigCommerce --------------------------------------------------------------------------
    bigcommerce_store_hash: str = Field(
        "sandbox",
        pattern=r"^[A-Za-z0-9]{1,40}$",
        description="The store hash, from the API path https://api.bigcommerce.com/stores/{store_hash}/v3/.",
    )
    bigcommerce_api_base: str = Field(
        f"{SANDBOX_URL}/bigcommerce",
        description="BigCommerce API root (https://api.bigcommerce.com for a real store; /stores/{store_hash} is added).",
    )
    bigcommerce_access_token: SecretStr = Field(
        SecretStr("bc_sandbox_token"),
        description="Access token of a store-level API account (Settings > Store-level API accounts), sent as X-Auth-Token.",
    )
    bigcommerce_webhook_header: str = Field(
        "X-Support-Agent-Secret",
        description="Custom header registered on the store's hooks (/v3/hooks `headers`); BigCommerce sends it with each delivery.",
    )
    bigcommerce_webhook_secret: SecretStr = Field(
        SecretStr("bigcommerce_webhook_sandbox"),
        description="The value of that header: BigCommerce does not sign deliveries, so this shared secret proves them.",
    )

    # --- Gorgias ------------------------------------------------------------------------------
    gorgias_base_url: str = Field(
        f"{SANDBOX_URL}/gorgias/api", description="Gorgias API base, e.g. https://DOMAIN.gorgias.com/api."
    )
    gorgias_email: str = Field("agent@sandbox.test", description="Gorgias user the API key belongs to.")
    gorgias_api_key: SecretStr = Field(SecretStr("gorgias_sandbox"), description="Gorgias REST API key.")
    gorgias_webhook_header: str = Field(
        "X-Support-Agent-Secret", description="Header the Gorgias HTTP integration sends."
    )
    gorgias_webhook_secret: SecretStr = Field(
        SecretStr("gorgias_webhook_sandbox"), description="Value of that header."
    )

    # --- Zendesk -------------------------------------------------------------------------------
    zendesk_base_url: str = Field(
        f"{SANDBOX_URL}/zendesk/api/v2",
        description="Zendesk Support API base, e.g. https://SUBDOMAIN.zendesk.com/api/v2.",
    )
    zendesk_email: str = Field(
        "agent@sandbox.test",
        description="Zendesk agent the API token acts as (the author of the bot's comments).",
    )
    zendesk_api_token: SecretStr = Field(
        SecretStr("zendesk_sandbox"),
        description="Zendesk API token (Admin Center > Apps and integrations > Zendesk API).",
    )
    zendesk_webhook_secret: SecretStr = Field(
        SecretStr("zendesk_webhook_sandbox"),
        description="Signing secret of the Zendesk webhook the triggers notify (checks X-Zendesk-Webhook-Signature).",
    )
    zendesk_webhook_max_age_seconds: float = Field(
        300.0,
        gt=0,
        description="A Zendesk webhook signed longer ago than this (or ahead by as much) is refused.",
    )

    # --- Front ---------------------------------------------------------------------------------
    front_base_url: str = Field(
        f"{SANDBOX_URL}/front",
        description="Front Core API base: https://api2.frontapp.com for a real company.",
    )
    front_api_token: SecretStr = Field(
        SecretStr("front_sandbox"),
        description="Front API token (Settings > Developers > API tokens) with access to the channel's inbox.",
    )
    front_channel_id: str = Field(
        "cha_sandbox", description="Id (cha_...) of the Front application channel the chats are synced into."
    )
    front_app_secret: SecretStr = Field(
        SecretStr("front_app_secret_sandbox"),
        description="App secret of the Front app owning the channel (checks X-Front-Signature on its webhooks).",
    )
    front_webhook_max_age_seconds: float = Field(
        300.0,
        gt=0,
        description="A Front webhook whose X-Front-Request-Timestamp is older (or ahead) by more than this is refused.",
    )

    # --- Intercom ------------------------------------------------------------------------------
    intercom_base_url: str = Field(
        f"{SANDBOX_URL}/intercom",
        description="Intercom REST API base: https://api.intercom.io (api.eu.intercom.io, api.au.intercom.io by region).",
    )
    intercom_api_version: str = Field(
        "2.14",
        description="Intercom-Version sent with every call (the version this integration is built on).",
    )
    intercom_access_token: SecretStr = Field(
        SecretStr("intercom_sandbox"),
        description="Access token of the store's Intercom app (Developer Hub > your app > Authentication).",
    )
    intercom_client_secret: SecretStr = Field(
        SecretStr("intercom_client_secret_sandbox"),
        description="Client secret of that app (Basic information): checks the webhooks' X-Hub-Signature.",
    )
    intercom_bot_admin_id: str = Field(
        "7451001",
        description="Id of the Intercom admin (teammate) the bot replies, notes and tags as.",
    )
    intercom_handoff_assignee: str = Field(
        "",
        description="Whom a hand-off is assigned to: team:<id> or admin:<id> (empty: left unassigned).",
    )
    intercom_workspace_id: str = Field(
        "", description="Intercom workspace (app) id, for links to conversations in the inbox."
    )

    # --- EasyPost, Stripe, SendGrid -------------------------------------------------------------
    easypost_api_key: SecretStr = Field(SecretStr("EZTK_sandbox"), description="EasyPost API key.")
    easypost_api_base: str = Field(
        f"{SANDBOX_URL}/easypost/v2",
        description="Only for a proxy: with SANDBOX_MODE=false, unset means EasyPost itself.",
    )
    stripe_api_key: SecretStr = Field(SecretStr("sk_test_sandbox"), description="Stripe secret key.")
    stripe_api_base: str = Field(
        f"{SANDBOX_URL}/stripe",
        description="Only for a proxy: with SANDBOX_MODE=false, unset means Stripe itself.",
    )
    sendgrid_api_key: SecretStr = Field(SecretStr("SG.sandbox"), description="SendGrid API key.")
    sendgrid_host: str = Field(
        f"{SANDBOX_URL}/sendgrid",
        description="Only for a proxy: with SANDBOX_MODE=false, unset means SendGrid itself.",
    )
    mail_from: str = Field("support@harborandpine.test", description="Sender of the emails the agent sends.")
    # --- Twilio SMS and proactive notifications -------------------------------------------------
    sms_enabled: bool = Field(
        True,
        description="Talk to shoppers by SMS through Twilio (inbound at /webhooks/twilio, notifications).",
    )
    twilio_account_sid: str = Field("AC" + "0" * 32, description="Twilio account SID (AC...).")
    twilio_auth_token: SecretStr = Field(
        SecretStr("twilio_auth_sandbox"),
        description="Twilio auth token: authenticates API calls and signs Twilio's webhooks (X-Twilio-Signature).",
    )
    twilio_from_number: str = Field(
        "+14155550100", description="The store's Twilio phone number (E.164) texts come from and go to."
    )
    twilio_api_base: str = Field(
        f"{SANDBOX_URL}/twilio",
        description="Only for a proxy: with SANDBOX_MODE=false, unset means Twilio itself (https://api.twilio.com).",
    )
    sms_default_region: str = Field(
        "US", description="Country (ISO 3166 alpha-2) of phone numbers written without a +country code."
    )
    easypost_webhook_secret: SecretStr = Field(
        SecretStr("easypost_webhook_sandbox"),
        description="Secret of the EasyPost webhook (signs X-Hmac-Signature on tracker.updated events).",
    )
    parcel_sweep_minutes: float = Field(
        60.0,
        ge=0,
        description="How often the server checks shipped parcels for problems (0: never; webhooks still count).",
    )
    team_email: str = Field("team@harborandpine.test", description="Where escalations are emailed.")
    return_address_name: str = Field("Harbor & Pine Returns", description="Return labels are addressed to...")
    return_address_street: str = Field("2750 Mill St", description="Warehouse street for return labels.")
    return_address_city: str = Field("Reno", description="Warehouse city.")
    return_address_state: str = Field("NV", description="Warehouse state.")
    return_address_zip: str = Field("89502", description="Warehouse ZIP.")
    return_carrier: str = Field(
        "USPS", description="Preferred carrier for return labels (falls back to any)."
    )

    # --- store help content ---------------------------------------------------------------------
    knowledge_dir: Path = Field(
        REPO_ROOT / "prompts" / "knowledge",
        description="Folder of Markdown help pages (shipping, returns, payment ...) the agent answers store "
        "questions from; the default is the demo store's.",
    )

    # --- policy ---------------------------------------------------------------------------------
    policy_file: Path | None = Field(None, description="YAML StorePolicy; overrides the values below.")
    return_window_days: int = Field(30, description="Days after delivery an item can be returned.")
    final_sale_tags: list[str] = Field(
        ["final-sale"], description="Product tags that make an item non-returnable."
    )
    refund_auto_approve_limit: Decimal = Field(
        Decimal("100.00"), description="Refunds above this need a human's approval."
    )
    currency: str = Field("USD", description="Store currency.")
    verification_lockout_failures: int = Field(
        5,
        ge=1,
        description="Failed verifications naming one email or order number (any conversation) before it is locked.",
    )
    verification_client_lockout_failures: int = Field(
        10, ge=1, description="Failed verifications from one client address before it is locked."
    )
    verification_lockout_minutes: float = Field(
        15.0, gt=0, description="First verification lock-out; each further one lasts twice as long."
    )
    verification_max_lockout_hours: float = Field(24.0, gt=0, description="Longest verification lock-out.")
    verification_quiet_hours: float = Field(
        24.0, gt=0, description="After this long with no failed verification a target starts afresh."
    )
    max_labels_per_order: int = Field(
        2, ge=1, description="Return labels bought per order, by any conversation."
    )
    max_handoffs_per_client_per_hour: int = Field(
        3,
        ge=1,
        description="New hand-offs to a person per client address per hour; more get an honest reply.",
    )

    # --- secrets of the agent itself -----------------------------------------------------------
    store_secret: SecretStr = Field(
        SecretStr("store_secret_sandbox"),
        description='Signs widget identities: hex HMAC-SHA256(secret, f"{email}\\n{issued_at}").',
    )
    identity_max_age_seconds: int = Field(
        86_400, description="How long a signed widget identity is accepted after its issue time."
    )
    credential_keys: SecretStr | None = Field(
        None, description="Comma-separated Fernet keys for stored vendor tokens; first encrypts, all decrypt."
    )

    # --- server ---------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address `support-agent serve` binds.")
    port: int = Field(8000, description="Port `support-agent serve` binds.")
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Where the server is reachable (webhook URLs)."
    )
    cors_origins: list[str] = Field(
        ["http://127.0.0.1:8000", "http://localhost:8000"], description="Widget origins."
    )
    max_message_chars: int = Field(2000, description="Longest shopper message accepted.")
    max_body_bytes: int = Field(64_000, description="Largest request body accepted.")
    rate_limit_per_ip_per_minute: int = Field(60, description="Messages per minute per client address.")
    rate_limit_per_conversation_per_minute: int = Field(
        20, description="Messages per minute per conversation."
    )

    # --- development ------------------------------------------------------------------------------
    fixtures_dir: Path = Field(
        REPO_ROOT.parent / "shared" / "fixtures",
        validation_alias=AliasChoices("SUPPORT_AGENT_FIXTURES", "FIXTURES_DIR"),
        description="Recorded vendor payloads and data sets (tests, classifier training).",
    )
    cache_dir: Path = Field(Path("var/cache"), description="Trained classifier and other caches.")
    log_level: str = Field("INFO", description="Python logging level.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()


def export_to_child_processes(values: dict[str, str]) -> None:
    """Put settings in this process's environment, for worker processes it starts to read
    (`support-agent serve --workers N`). Only this module touches the environment."""
    import os

    os.environ.update(values)
