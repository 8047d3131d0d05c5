"""The server process killed (SIGKILL) at each side-effect point of a turn, then restarted: the
shopper's retry with the same `client_message_id` completes with exactly one label / refund /
email and no lost message.

The agent runs as a real `support-agent serve` process (SQLite file, offline model, real-store
mode) against a sandbox served from this test process, so the vendors' state survives the kill
and the test reads it directly. Each kill point is reached by delaying the vendor call that
follows (or is) the side effect, and waiting until the sandbox shows where the turn is.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.app import create_sandbox_app
from sandbox.serve import serve_in_thread
from sandbox.world import Fault, World
from server.security import sign_identity

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
RETURN = "I'd like to return order #1002, my email is ben.okafor@example.com"
REFUND = "Refund order 1009 please, grace.lee@example.com"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll a condition on another process's progress (there is nothing to await across processes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class AgentProcess:
    """`support-agent serve` on a SQLite file, pointed at the test's sandbox; killable."""

    sandbox_url: str
    database: Path
    secret: str
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        root = self.sandbox_url
        return {
            **os.environ,
            "SANDBOX_MODE": "false",
            "MODEL": "offline",
            "DATABASE_URL": "",
            "SQLITE_PATH": str(self.database),
            "SHOPIFY_API_BASE": f"{root}/shopify/admin/api",
            "GORGIAS_BASE_URL": f"{root}/gorgias/api",
            "EASYPOST_API_BASE": f"{root}/easypost/v2",
            "STRIPE_API_BASE": f"{root}/stripe",
            "SENDGRID_HOST": f"{root}/sendgrid",
            "STORE_SECRET": self.secret,
            "GORGIAS_WEBHOOK_SECRET": secrets.token_urlsafe(32),
            "SHOPIFY_WEBHOOK_SECRET": secrets.token_urlsafe(32),
            "RATE_LIMIT_PER_IP_PER_MINUTE": "10000",
            "LOG_LEVEL": "WARNING",
        }

    def start(self) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(  # noqa: S603 (our own command line)
            [sys.executable, "-m", "cli.main", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=REPO_ROOT,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            # Kept beside the database: a failing test's server log says why (read it with `log()`).
            stderr=self.database.with_suffix(".log").open("ab"),
        )
        wait_for(self._healthy, "the agent server to start", timeout=60)

    def log(self) -> str:
        path = self.database.with_suffix(".log")
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the agent server exited with {self.process.returncode}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Shopper:
    agent: AgentProcess
    email: str
    id: str = ""
    token: str = ""

    def start(self) -> None:
        issued_at = int(time.time())
        body = {
            "email": self.email,
            "issued_at": issued_at,
            "signature": sign_identity(self.email, issued_at, self.agent.secret),
        }
        response = httpx.post(f"{self.agent.url}/api/conversations", json=body, timeout=10)
        assert response.status_code == 201, response.text
        self.id, self.token = response.json()["id"], response.json()["token"]

    def say(self, text: str, client_message_id: str, timeout: float = 30.0) -> httpx.Response:
        return httpx.post(
            f"{self.agent.url}/api/conversations/{self.id}/messages",
            json={"text": text, "client_message_id": client_message_id},
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
            timeout=timeout,
        )

    def say_in_background(self, text: str, client_message_id: str) -> subprocess.Popen[bytes]:
        """Send a message from another process, which the kill leaves without an answer."""
        code = (
            "import httpx,sys; httpx.post(sys.argv[1], json={'text': sys.argv[2], 'client_message_id': "
            "sys.argv[3]}, headers={'Authorization': 'Bearer ' + sys.argv[4], 'Accept': 'application/json'}, "
            "timeout=60)"
        )
        url = f"{self.agent.url}/api/conversations/{self.id}/messages"
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", code, url, text, client_message_id, self.token],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def history(self) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.agent.url}/api/conversations/{self.id}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages


@dataclass
class Harness:
    world: Callable[[], World]
    agent: AgentProcess

    def labels(self) -> list[dict[str, Any]]:
        return [s for s in self.world().easypost.shipments.values() if s.get("postage_label")]

    def shipments(self) -> list[dict[str, Any]]:
        return list(self.world().easypost.shipments.values())

    def emails_to(self, address: str) -> list[dict[str, Any]]:
        return [m for m in self.world().sendgrid.outbox if address in m["to"]]

    def stripe_refunds(self) -> list[dict[str, Any]]:
        return list(self.world().stripe.refunds.values())

    def delay(self, vendor: str, route: str, method: str, *, reaches_vendor: bool) -> None:
        """Hold the next matching call 3 s. `reaches_vendor`: if the agent dies meanwhile, the vendor
        still carries it out (the request had left); otherwise it is dropped (it never left)."""
        fault = Fault.model_validate(
            {
                "vendor": vendor,
                "route": route,
                "method": method,
                "kind": "delay",
                "delay_seconds": 3,
                "drop_if_disconnected": not reaches_vendor,
            }
        )
        self.world().faults.append(fault)

    def restart(self) -> None:
        self.world().faults.clear()
        self.agent.start()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    app = create_sandbox_app()
    with serve_in_thread(app) as sandbox_url:
        agent = AgentProcess(sandbox_url, tmp_path / "agent.sqlite", secrets.token_urlsafe(32))
        agent.start()
        try:
            yield Harness(lambda: app.state.world, agent)
        finally:
            agent.stop()


def ask_for_return_label(harness: Harness) -> Shopper:
    shopper = Shopper(harness.agent, "ben.okafor@example.com")
    shopper.start()
    asked = shopper.say(RETURN, "return-1")
    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "awaiting_confirmation", asked.json()
    return shopper


def assert_finished_once(shopper: Shopper, client_message_id: str) -> list[dict[str, Any]]:
    retried = shopper.say("yes", client_message_id)
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "active"
    history = shopper.history()
    shopper_texts = [m["text"] for m in history if m["role"] == "shopper"]
    assert shopper_texts.count("yes") == 1, "the retried message was added twice"
    assert shopper_texts[0] == RETURN or shopper_texts[0] == REFUND
    return history


@pytest.mark.parametrize(
    ("point", "delayed", "reached"),
    [
        # The purchase request is on its way when the agent dies: the vendor completes it.
        ("while buying the label", ("easypost", "/buy", "POST", True), "shipment"),
        # Bought; the email request never leaves.
        ("after buying the label", ("sendgrid", "/mail/send", "POST", False), "label"),
        # Bought and emailed; the order note (its `orderUpdate`) never leaves.
        ("after emailing the label", ("shopify", "#OrderNoteUpdate", "POST", False), "email"),
    ],
)
def test_killed_around_the_return_label_finishes_with_one_label_and_one_email(
    harness: Harness, point: str, delayed: tuple[str, str, str, bool], reached: str
) -> None:
    shopper = ask_for_return_label(harness)
    vendor, route, method, reaches_vendor = delayed
    harness.delay(vendor, route, method, reaches_vendor=reaches_vendor)
    pending = shopper.say_in_background("yes", "yes-1")
    checks = {
        "shipment": lambda: harness.shipments(),
        "label": lambda: harness.labels(),
        "email": lambda: harness.emails_to("ben.okafor@example.com"),
    }
    # The point is reached when its effect is visible AND the held call has left: the steps before it
    # (their journal entries included) are done. Seeing the effect alone races the agent's own record
    # of it, a window no vendor without idempotency keys (SendGrid) lets anyone close.
    wait_for(
        lambda: bool(checks[reached]()) and harness.world().faults == [],
        f"the turn to reach the point {point}",
    )

    harness.agent.kill()
    pending.wait(timeout=60)
    harness.restart()

    history = assert_finished_once(shopper, "yes-1")
    assert len(harness.labels()) == 1, f"{point}: a second label was bought"
    assert len(harness.emails_to("ben.okafor@example.com")) == 1, f"{point}: the label was emailed twice"
    assert any(m["card"] and m["card"].get("type") == "label" for m in history)
    note = harness.world().order_by_number(1002)
    assert note is not None and str(note.get("note") or "").count("Return label") == 1


@pytest.mark.parametrize(
    ("point", "delayed", "reached"),
    [
        # The refund request is on its way when the agent dies: Stripe carries it out.
        ("while refunding", ("stripe", "/refunds", "POST", True), None),
        # Refunded; the order note never leaves.
        ("after refunding", ("shopify", "#OrderNoteUpdate", "POST", False), "refund"),
    ],
)
def test_killed_around_a_refund_finishes_with_exactly_one_refund(
    harness: Harness, point: str, delayed: tuple[str, str, str, bool], reached: str | None
) -> None:
    shopper = Shopper(harness.agent, "grace.lee@example.com")
    shopper.start()
    asked = shopper.say(REFUND, "refund-1")
    assert asked.status_code == 200 and asked.json()["status"] == "awaiting_confirmation", (
        asked.text + "\n" + harness.agent.log()
    )
    vendor, route, method, reaches_vendor = delayed
    harness.delay(vendor, route, method, reaches_vendor=reaches_vendor)
    pending = shopper.say_in_background("yes", "yes-1")
    if reached == "refund":
        wait_for(
            lambda: bool(harness.stripe_refunds()) and harness.world().faults == [],
            f"the turn to reach the point {point}",
        )
    else:
        wait_for(lambda: harness.world().faults == [], "the refund request to be in flight")

    harness.agent.kill()
    pending.wait(timeout=60)
    wait_for(
        lambda: harness.stripe_refunds() or reached is None, "the vendor to finish the request in flight"
    )
    harness.restart()

    history = assert_finished_once(shopper, "yes-1")
    assert len(harness.stripe_refunds()) == 1, f"{point}: refunded twice"
    assert any(m["card"] and m["card"].get("type") == "refund" for m in history), history
