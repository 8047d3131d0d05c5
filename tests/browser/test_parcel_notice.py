"""A parcel problem told before the shopper asks, in the demo server: moving the sandbox clock runs the
sweep, the email's link opens the widget on the conversation that told them, and they answer there."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import BrowserApp, Widget

pytestmark = pytest.mark.browser


def test_the_emails_link_opens_the_notice_in_the_widget(
    page: Page, live_url: str, browser_app: BrowserApp
) -> None:
    world = browser_app.world
    with httpx.Client(base_url=f"{live_url}/sandbox", timeout=30) as control:
        moved = control.post("/_sandbox/clock", json={"now": "2026-11-26T15:00:00Z"})
        assert moved.status_code == 200, moved.text
        assert moved.json()["sweep"]["notices"] >= 1
        texts = [m for m in control.get("/_sandbox/sms").json() if m["to"] == "+14155550101"]
    assert texts and "order #1001" in texts[0]["body"]
    [mail] = [m for m in world.sendgrid.outbox if m["subject"] == "An update on your order 1001"]
    match = re.search(r"(/\?conversation=[0-9a-f]+#token=[\w-]+)", mail["text"])
    assert match, mail["text"]

    page.goto(match.group(1))
    widget = Widget(page)
    expect(widget.panel).to_be_visible()
    expect(widget.messages("assistant").first).to_contain_text("no tracking update")
    assert "token" not in page.url  # taken out of the address bar (and history) once read
    widget.send("Can you send a replacement?")
    expect(widget.messages("shopper")).to_have_text(["Can you send a replacement?"])
    widget.wait_idle()
    expect(widget.messages("assistant")).not_to_have_count(1)
