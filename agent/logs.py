"""Logging for the processes we start: one format, secrets and emails redacted everywhere."""

from __future__ import annotations

import logging

from integrations._http import RedactingFilter


def configure_logging(level: str = "INFO") -> None:
    """Root logging at `level`, every record redacted, and quiet HTTP client logs (they print URLs,
    which can carry email addresses in query strings)."""
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redacting = RedactingFilter()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redacting)
    for noisy in ("httpx", "httpcore", "urllib3", "openai", "stripe"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
