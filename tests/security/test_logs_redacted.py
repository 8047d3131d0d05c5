"""No customer email and no conversation token in any log line, access logs included.

A whole session runs through the real app (offline model, sandbox store mounted, served by uvicorn
over loopback, so the SDK clients' HTTP calls and uvicorn's access log are real), with every
logger captured at DEBUG: a signed-in shopper asks where their order is, another returns an order
(a label is bought and emailed) and asks for a person.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from agent.settings import Settings
from demo.server import create_demo_app
from server.app import with_public_url
from server.security import sign_identity

ANA = "ana.silva@example.com"
BEN = "ben.okafor@example.com"


class Capture(logging.Handler):
    """Every record, formatted the way a log file would show it (traceback included)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = with_public_url(
        Settings(_env_file=None, sandbox_mode=True, sqlite_path=tmp_path / "chat.sqlite", database_url=None),
        url,
    )
    app = create_demo_app(settings)
    # uvicorn's own logging configuration (as `support-agent serve` runs it): access log on.
    config = uvicorn.Config(app, log_level="debug", access_log=True, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield url, settings
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def capture(live_app: tuple[str, Settings]) -> Iterator[Capture]:
    """A handler on the root and on every logger that does not propagate (uvicorn's), at DEBUG;
    attached after uvicorn has configured its loggers (which replaces their handlers)."""
    handler = Capture()
    names = ["", "uvicorn", "uvicorn.access", "uvicorn.error", "httpx", "httpcore", "urllib3", "stripe"]
    loggers = [logging.getLogger(name) for name in names]
    saved = [(logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        if logger.name != "root":
            logger.propagate = False  # each record captured once
    yield handler
    for logger, (level, propagate) in zip(loggers, saved, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def _turn(http: httpx.Client, conversation: dict[str, str], text: str) -> dict[str, object]:
    response = http.post(
        f"/api/conversations/{conversation['id']}/messages",
        json={"text": text},
        headers={"Accept": "application/json", "Authorization": f"Bearer {conversation['token']}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_full_session_logs_no_email_and_no_token(capture: Capture, live_app: tuple[str, Settings]) -> None:
    url, settings = live_app
    issued_at = int(time.time())
    identity = {
        "email": ANA,
        "issued_at": issued_at,
        "signature": sign_identity(ANA, issued_at, settings.store_secret.get_secret_value()),
    }
    with httpx.Client(base_url=url, timeout=60) as http:
        ana = http.post("/api/conversations", json=identity).json()
        assert ana["verified"] is True
        wismo = _turn(http, ana, "Where is order #1001?")
        ben = http.post("/api/conversations").json()
        _turn(http, ben, f"I'd like to return order #1002, my email is {BEN}")
        returned = _turn(http, ben, "yes")
        handoff = _turn(http, ben, "Can I talk to a person please?")
        history = http.get(
            f"/api/conversations/{ben['id']}", headers={"Authorization": f"Bearer {ben['token']}"}
        ).json()
        outbox = http.get("/sandbox/_sandbox/outbox").json()

    # The session really happened: tracking, a label emailed to Ben, a person.
    assert "UPS" in str(wismo["messages"])
    assert any(BEN in mail.get("to", []) for mail in outbox), returned
    assert handoff["status"] == "human_handling"
    assert history["customer_email"] == BEN

    logged = "\n".join(capture.lines)
    assert "GET /api/conversations/" in logged  # the access log was captured
    assert "HTTP Request:" in logged or "/sandbox/" in logged  # and the clients' request logs
    for secret in (ANA, BEN, ANA.replace("@", "%40"), BEN.replace("@", "%40"), ana["token"], ben["token"]):
        leaks = [line for line in capture.lines if secret in line]
        assert leaks == [], f"{secret!r} logged: {leaks[:3]}"


def test_uvicorns_access_formatter_still_works_on_redacted_records() -> None:
    from uvicorn.logging import AccessFormatter

    from agent.logs import install_redaction

    install_redaction()
    logger = logging.getLogger("uvicorn.access")
    handler = Capture()
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s'))
    logger.addHandler(handler)
    try:
        logger.setLevel(logging.INFO)
        logger.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            "/customers?email=ana%40example.com",
            "1.1",
            200,
        )
    finally:
        logger.removeHandler(handler)
    assert handler.lines == ['127.0.0.1:5000 - "GET /customers?email=[email] HTTP/1.1" 200 OK']
