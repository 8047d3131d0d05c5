"""Start-up checks of a real store's vendor setup: what would otherwise fail on a shopper's first
request, said clearly in the log when the server starts (SANDBOX_MODE=false).

- SendGrid refuses every email from an address that is neither a verified Sender Identity nor on
  an authenticated domain (403): MAIL_FROM is checked against the account's sender identities.

A check that cannot reach its vendor says so and moves on: a network hiccup at start-up must not
keep the agent down, and nothing here raises.
"""

from __future__ import annotations

import logging

from agent.settings import Settings
from integrations._http import IntegrationError
from integrations.sendgrid.client import SENDER_SETTING, SendGridMailer

logger = logging.getLogger("agent.startup")

CHECK_TIMEOUT_SECONDS = 10.0


async def check_vendor_setup(settings: Settings) -> list[str]:
    """Check the store's vendor setup; every problem found is logged as a warning and returned."""
    warnings = [*await check_mail_sender(settings)]
    for warning in warnings:
        logger.warning("%s", warning)
    return warnings


async def check_mail_sender(settings: Settings) -> list[str]:
    """MAIL_FROM must be a verified SendGrid Sender Identity (or on an authenticated domain)."""
    mailer = SendGridMailer(
        settings.sendgrid_api_key.get_secret_value(),
        settings.sendgrid_host or None,
        from_email=settings.mail_from,
        team_email=settings.team_email,
        timeout=CHECK_TIMEOUT_SECONDS,
        retry_policy=None,
    )
    try:
        status = await mailer.sender_status()
    except IntegrationError as exc:
        return [
            f"Could not check that {SENDER_SETTING} may send through SendGrid ({exc}); if it is not a verified "
            "Sender Identity, every email the agent sends will be refused."
        ]
    if status.verified:
        return []
    return [
        f"{SENDER_SETTING} is {status.detail} in SendGrid: every email the agent sends (return labels, "
        "verification codes, escalations to the team) will be refused with 403 until it is verified "
        "(SendGrid: Settings > Sender Authentication) or its domain is authenticated."
    ]
