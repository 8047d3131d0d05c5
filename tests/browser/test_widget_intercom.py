"""The widget's hand-off, takeover and resume with Intercom as the helpdesk: the same browser tests
(imported, so they run here with this module's `browser_app`), the person acting through the
sandbox's control API on Intercom's records, whose signed notifications reach the server's
/webhooks/intercom over HTTP."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import BrowserApp, build_browser_app
from tests.browser.test_widget import (
    test_event_stream_reconnects_after_it_drops,
    test_handoff_human_reply_and_back_to_the_bot,
    test_the_token_travels_in_headers_never_in_a_url,
)

__all__ = [
    "test_event_stream_reconnects_after_it_drops",
    "test_handoff_human_reply_and_back_to_the_bot",
    "test_the_token_travels_in_headers_never_in_a_url",
]


@pytest.fixture
def browser_app(listening_socket: socket.socket, tmp_path: Path) -> Iterator[BrowserApp]:
    url = f"http://127.0.0.1:{listening_socket.getsockname()[1]}"
    app = build_browser_app(url, tmp_path, real_agent=True, helpdesk="intercom")
    assert app.world.helpdesk_webhook.url == f"{url}/webhooks/intercom"
    yield app
    assert app.world.helpdesk == "intercom"
    assert app.world.gorgias.tickets == {}, "a ticket went to Gorgias"
    assert app.world.intercom.conversations, "no Intercom conversation was written"
