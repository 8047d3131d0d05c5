"""Twilio's error codes the adapter maps onto `integrations.texting` (https://www.twilio.com/docs/api/errors)."""

from __future__ import annotations

INVALID_TO_NUMBER = 21211
NOT_A_MOBILE = 21614
OPTED_OUT = 21610
