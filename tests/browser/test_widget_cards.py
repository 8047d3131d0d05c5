"""Card rendering, against the scripted fake whatever app the main browser suite runs: the fake
produces every card shape (DESIGN.md §7, the comment at the top of widget.js) on demand."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import BrowserApp, Widget, build_browser_app

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_app(listening_socket: socket.socket, tmp_path: Path) -> BrowserApp:
    url = f"http://127.0.0.1:{listening_socket.getsockname()[1]}"
    return build_browser_app(url, tmp_path, real_agent=False)


def test_order_and_refund_cards(widget: Widget) -> None:
    widget.open()
    widget.send("Can you show me order #1001?")

    order = widget.card("order")
    expect(order).to_contain_text("Order #1001")
    expect(order).to_contain_text("Shipped")
    expect(order.locator("li")).to_have_text(
        [re.compile("Trail Running Shoes"), re.compile("Merino Hiking Socks")]
    )
    expect(order).to_contain_text("$180.67")
    expect(order).to_contain_text("1Z84F2A90312345678")
    widget.wait_idle()

    widget.send("I want a refund for order #1009")

    refund = widget.card("refund")
    expect(refund).to_contain_text("Order #1009")
    expect(refund).to_contain_text("$80.97")
    expect(refund).to_contain_text("Refunded")
