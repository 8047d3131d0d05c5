"""The widget's hand-off, takeover and resume with each other helpdesk (Zendesk, Front, Intercom):
the browser tests of `test_widget.py` on the Shopify demo store, the person acting through the
sandbox's control API on that helpdesk's records, whose signed webhooks reach the server's
/webhooks/{helpdesk} over HTTP."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sandbox.world import World
from tests.browser import test_widget
from tests.browser.conftest import BrowserApp, SandboxDesk, Widget, build_browser_app

# Where each helpdesk keeps what the agent wrote (the vendor's own records, not the neutral view).
RECORDS: dict[str, Callable[[World], dict[int, object]]] = {
    "zendesk": lambda world: dict(world.zendesk.tickets),
    "front": lambda world: dict(world.front.conversations),
    "intercom": lambda world: dict(world.intercom.conversations),
}


@pytest.fixture(params=sorted(RECORDS))
def browser_app(
    request: pytest.FixtureRequest, listening_socket: socket.socket, tmp_path: Path
) -> Iterator[BrowserApp]:
    helpdesk: str = request.param
    url = f"http://127.0.0.1:{listening_socket.getsockname()[1]}"
    app = build_browser_app(url, tmp_path, real_agent=True, helpdesk=helpdesk)
    assert app.world.helpdesk_webhook.url == f"{url}/webhooks/{helpdesk}"
    yield app
    assert app.world.helpdesk == helpdesk
    assert app.world.gorgias.tickets == {}, "a ticket went to Gorgias"
    assert RECORDS[helpdesk](app.world), f"nothing was written to {helpdesk}"


def test_handoff_human_reply_and_back_to_the_bot(widget: Widget, desk: SandboxDesk) -> None:
    test_widget.test_handoff_human_reply_and_back_to_the_bot(widget, desk, "shopify")


def test_the_token_travels_in_headers_never_in_a_url(widget: Widget, desk: SandboxDesk) -> None:
    test_widget.test_the_token_travels_in_headers_never_in_a_url(widget, desk)


def test_event_stream_reconnects_after_it_drops(widget: Widget, desk: SandboxDesk) -> None:
    test_widget.test_event_stream_reconnects_after_it_drops(widget, desk)
