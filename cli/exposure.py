"""Refuse to expose the demo's sandbox control API beyond this machine without a token.

In demo mode the server mounts the sandbox, whose control API resets the store, approves refunds,
reads every customer's orders and emails and rewires the helpdesk webhook. On loopback only this
machine reaches it; on any other address it needs SANDBOX_CONTROL_TOKEN.
"""

from __future__ import annotations

import ipaddress

from pydantic import SecretStr

from agent.models import ConfigError
from agent.secret_strength import KEYGEN_HINT, weakness


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name or a wildcard: assume it is reachable from elsewhere


def check_demo_exposure(host: str, sandbox_mode: bool, control_token: SecretStr | None) -> None:
    """ConfigError when the sandbox would be served on a non-loopback address without a strong token."""
    if not sandbox_mode or is_loopback(host):
        return
    if control_token is None:
        raise ConfigError(
            f"demo mode (SANDBOX_MODE=true) on {host!r}, which is reachable from other machines, needs "
            "SANDBOX_CONTROL_TOKEN: anyone reaching /sandbox/_sandbox/ could reset the store, approve refunds "
            f"and read customers' orders. Set it ({KEYGEN_HINT}) and send it as `Authorization: Bearer`, or "
            "bind 127.0.0.1."
        )
    reason = weakness(control_token.get_secret_value())
    if reason is not None:
        raise ConfigError(f"SANDBOX_CONTROL_TOKEN is too weak ({reason}); {KEYGEN_HINT}.")
