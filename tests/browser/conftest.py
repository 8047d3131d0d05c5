"""Browser tests: the real widget in headless Chromium against the server over loopback HTTP.

The app under test comes from ONE fixture, `browser_app`. Today it is the server with the scripted
fake service (tests/server/fake_service.py) acting on a real sandbox world. To run the same tests
against the real agent, build it without `service=` (see `browser_app`). Everything that plays the
human agent or inspects the store goes through `SandboxDesk`, i.e. the sandbox's control API over
HTTP, which works unchanged for both.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Error,
    Locator,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from agent.settings import Settings
from demo.server import create_demo_app
from sandbox.app import create_sandbox_app
from sandbox.world import World
from server.app import with_public_url
from tests.server.fake_service import FakeConversationService

# A whole agent turn runs behind each assertion; on a busy 2-core CI machine give it room. Playwright
# polls, so a fast turn still passes at once.
expect.set_options(timeout=15_000)

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STORE = "Harbor & Pine"


# --------------------------------------------------------------------------- the app under test


@dataclass
class BrowserApp:
    app: FastAPI
    url: str
    world: World  # the sandbox world the app's store lives in


@pytest.fixture
def listening_socket() -> Iterator[socket.socket]:
    """Bound and listening before the app exists, so the app's settings know their own URL and
    connections queue in the backlog until uvicorn accepts them (no waiting for start-up)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield sock
    sock.close()


PLATFORMS = ("shopify", "woocommerce", "bigcommerce")


def build_browser_app(
    url: str,
    tmp_path: Path,
    *,
    real_agent: bool,
    store_platform: str = "shopify",
    helpdesk: str = "gorgias",
) -> BrowserApp:
    """The server in demo mode at `url`, with the real agent or with the scripted fake service
    (which acts on the same sandbox world: tickets for handoffs, the label email in the outbox), on
    the demo store of `store_platform` (every platform's emulator holds the same orders) and the
    helpdesk named (the real agent only: the fake service writes Gorgias tickets)."""
    base = Settings(
        _env_file=None,
        sandbox_mode=True,
        sqlite_path=tmp_path / "chat.sqlite",
        store_platform=store_platform,
        helpdesk=helpdesk,
    )
    settings = with_public_url(base, url)
    sandbox_app = create_sandbox_app()
    world: World = sandbox_app.state.world
    service = None if real_agent else FakeConversationService(world=world)
    # Without `service`, the lifespan builds the real agent on the mounted sandbox (demo.server).
    app = create_demo_app(settings, service=service, sandbox_app=sandbox_app)
    return BrowserApp(app=app, url=url, world=world)


@pytest.fixture
def store_platform() -> str:
    """The store platform of the demo store; core flows parametrize it over `PLATFORMS`."""
    return "shopify"


@pytest.fixture
def browser_app(listening_socket: socket.socket, tmp_path: Path, store_platform: str) -> BrowserApp:
    """THE app the browser tests drive: the real agent (offline model) on the sandbox demo store."""
    url = f"http://127.0.0.1:{listening_socket.getsockname()[1]}"
    return build_browser_app(url, tmp_path, real_agent=True, store_platform=store_platform)


@pytest.fixture
def live_url(browser_app: BrowserApp, listening_socket: socket.socket) -> Iterator[str]:
    """`browser_app` served over HTTP on loopback (lifespan on, as in production)."""
    config = uvicorn.Config(browser_app.app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening_socket]}, daemon=True)
    thread.start()
    yield browser_app.url
    server.should_exit = True
    thread.join(timeout=10)


@dataclass(frozen=True)
class ConversationAccess:
    """A conversation as the widget keeps it: its id and its bearer token."""

    id: str
    token: str


@dataclass
class SandboxDesk:
    """The human side and the store, through public HTTP only: the chat API for the conversation's
    ticket, and the sandbox control API (`/sandbox/_sandbox/`) to reply, close and read the outbox.
    The helpers the tests use for anything that depends on the sandbox live here."""

    url: str

    def _http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def conversation(self, access: ConversationAccess) -> dict[str, Any]:
        with self._http() as http:
            response = http.get(
                f"/api/conversations/{access.id}", headers={"Authorization": f"Bearer {access.token}"}
            )
        response.raise_for_status()
        view: dict[str, Any] = response.json()
        return view

    def ticket_id(self, access: ConversationAccess, within: float = 15.0) -> str:
        """The conversation's ticket. The outbox worker files it just after the reply, so this waits
        for it (as a person in the helpdesk would), up to `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            ticket_id = self.conversation(access)["ticket_id"]
            if ticket_id or time.monotonic() > deadline:
                break
            with self._http() as http:  # a cheap request between looks, instead of a sleep
                http.get("/healthz")
        assert ticket_id, "the conversation has no helpdesk ticket"
        return str(ticket_id)

    def reply_as_agent(self, access: ConversationAccess, text: str) -> None:
        with self._http() as http:
            response = http.post(
                f"/sandbox/_sandbox/tickets/{self.ticket_id(access)}/reply", json={"text": text}
            )
        response.raise_for_status()
        assert response.json()["webhook"]["status"] == 200, response.json()["webhook"]

    def close_ticket(self, access: ConversationAccess) -> None:
        with self._http() as http:
            response = http.post(f"/sandbox/_sandbox/tickets/{self.ticket_id(access)}/close")
        response.raise_for_status()
        assert response.json()["webhook"]["status"] == 200, response.json()["webhook"]

    def order(self, number: int) -> dict[str, Any]:
        """The order as the store's platform holds it (`platform` names a non-Shopify one)."""
        with self._http() as http:
            response = http.get(f"/sandbox/_sandbox/orders/{number}")
        response.raise_for_status()
        order: dict[str, Any] = response.json()
        return order

    def emails_to(self, address: str) -> list[dict[str, Any]]:
        with self._http() as http:
            response = http.get("/sandbox/_sandbox/outbox")
        response.raise_for_status()
        return [mail for mail in response.json() if address in mail.get("to", [])]

    def verification_code(self, address: str) -> str:
        """The newest one-time code emailed to `address`, read as the shopper reads their email."""
        for mail in reversed(self.emails_to(address)):
            if "verification code" in str(mail.get("subject", "")).lower():
                found = re.search(r"\b(\d{6})\b", str(mail.get("text", "")))
                if found:
                    return found.group(1)
        raise AssertionError(f"no verification code emailed to {address}")


@pytest.fixture
def desk(live_url: str) -> SandboxDesk:
    return SandboxDesk(live_url)


# --------------------------------------------------------------------------- the browser


# Package scope, not session: the sync API keeps an event loop running in this thread while it is
# open, and the async tests of other packages need the thread's loop to themselves.
@pytest.fixture(scope="package")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        message = "Chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + ": required in CI")
        pytest.skip(message)
    try:
        browser = playwright_instance.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    except Error as exc:
        pytest.fail(f"Chromium at {executable} did not start: {exc}")
    yield browser
    browser.close()


def _new_page(browser: Browser, live_url: str, **context_options: Any) -> Iterator[Page]:
    context: BrowserContext = browser.new_context(base_url=live_url, **context_options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()  # before the server stops: closes the widget's event stream
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser: Browser, live_url: str) -> Iterator[Page]:
    """A fresh browser profile (empty localStorage) on a desktop-sized window."""
    # The widget's labels follow the browser's language: pinned, whatever the machine's locale.
    yield from _new_page(browser, live_url, viewport={"width": 1280, "height": 860}, locale="en-US")


@pytest.fixture
def spanish_page(browser: Browser, live_url: str) -> Iterator[Page]:
    """A shopper whose browser speaks Spanish."""
    yield from _new_page(browser, live_url, viewport={"width": 1280, "height": 860}, locale="es-ES")


@pytest.fixture
def phone_page(browser: Browser, live_url: str) -> Iterator[Page]:
    yield from _new_page(
        browser,
        live_url,
        viewport={"width": 390, "height": 844},
        has_touch=True,
        is_mobile=True,
        locale="en-US",
    )


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


# --------------------------------------------------------------------------- the widget, as a shopper sees it


class Widget:
    """Locators for the widget (Playwright pierces its open shadow root)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.launcher = page.get_by_role("button", name=f"Open chat with {STORE}")
        self.panel = page.get_by_role("dialog", name=STORE)
        self.input = page.get_by_role("textbox", name="Message")
        self.log = page.get_by_role("log", name="Conversation")
        self.close_button = page.get_by_role("button", name="Close chat")

    def open_store(self) -> Widget:
        self.page.goto("/")
        return self

    def open(self) -> Widget:
        self.launcher.click()
        expect(self.panel).to_be_visible()
        return self

    def send(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def messages(self, role: str) -> Locator:
        return self.log.locator(f'[data-role="{role}"]')

    def card(self, kind: str) -> Locator:
        return self.log.locator(f'[data-card="{kind}"]')

    def wait_idle(self) -> None:
        """The turn is over: the send button is usable again once text is typed."""
        expect(self.log.locator(".pending")).to_have_count(0)

    def conversation(self) -> ConversationAccess:
        """The conversation the widget keeps across reloads: id and token."""
        stored = self.page.evaluate(
            "() => JSON.parse(localStorage.getItem('support-agent:' + location.origin) || 'null')"
        )
        assert stored, "no conversation in localStorage"
        assert stored["id"], "no conversation id in localStorage"
        assert stored["token"], "no conversation token in localStorage"
        return ConversationAccess(id=str(stored["id"]), token=str(stored["token"]))

    def conversation_id(self) -> str:
        return self.conversation().id


@pytest.fixture
def widget(page: Page) -> Widget:
    return Widget(page).open_store()
