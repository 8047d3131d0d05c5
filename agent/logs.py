"""Logging for the processes we start: one format, secrets and emails redacted everywhere."""

from __future__ import annotations

import logging
from typing import Any

from integrations._http import RedactingFilter, redact_record


def install_redaction() -> None:
    """Redact every log record as it is created, whichever logger made it and whichever handler
    will write it (uvicorn's access log has its own handler; pytest's caplog adds another), so no
    customer email, conversation token or secret reaches any log. Idempotent."""
    current = logging.getLogRecordFactory()
    if getattr(current, "redacting", False):
        return

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        redact_record(record)
        return record

    redacting_factory.redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)


def configure_logging(level: str = "INFO") -> None:
    """Root logging at `level`, every record redacted, and quiet HTTP client logs (they print URLs,
    which can carry email addresses in query strings)."""
    install_redaction()
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redacting = RedactingFilter()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redacting)
    for noisy in ("httpx", "httpcore", "urllib3", "openai", "stripe"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
