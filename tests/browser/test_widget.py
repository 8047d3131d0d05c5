"""A shopper using the widget on the demo storefront, in headless Chromium.

Shopper texts are phrased the way a real shopper would, so they also drive the real agent once
`browser_app` is switched to it.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, Request, Route, expect

from tests.browser.conftest import PLATFORMS, STORE, SandboxDesk, Widget, screenshot

pytestmark = pytest.mark.browser

WISMO = "Where is order #1001? My email is ana.silva@example.com"
RETURN = "I'd like to return order #1002, my email is ben.okafor@example.com"
HUMAN = "Can I talk to a person please?"


@pytest.mark.parametrize("store_platform", PLATFORMS)
def test_shopper_sees_where_their_order_is(widget: Widget, desk: SandboxDesk, store_platform: str) -> None:
    assert desk.order(1001).get("platform", "shopify") == store_platform
    widget.open()
    expect(widget.input).to_be_focused()
    expect(widget.log).to_contain_text(f"I'm the {STORE} assistant")

    widget.send(WISMO)

    expect(widget.messages("shopper")).to_have_text([WISMO])
    tracking = widget.card("tracking")
    expect(tracking).to_be_visible()
    expect(tracking).to_contain_text("Order #1001")
    expect(tracking).to_contain_text("UPS")
    expect(tracking).to_contain_text("In transit")
    expect(tracking).to_contain_text("Departed from facility")
    expect(tracking).to_contain_text("Estimated delivery")
    carrier_link = tracking.get_by_role("link", name="Track with UPS")
    expect(carrier_link).to_have_attribute("href", re.compile(r"^https://"))
    expect(carrier_link).to_have_attribute("target", "_blank")
    expect(carrier_link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    widget.wait_idle()
    expect(widget.messages("assistant").last).to_contain_text("#1001")
    screenshot(
        widget.page,
        "desktop-tracking" if store_platform == "shopify" else f"desktop-tracking-{store_platform}",
    )


def enter_the_emailed_code(widget: Widget, desk: SandboxDesk, address: str) -> None:
    """A return needs a one-time code emailed to the order's address: read it there and type it."""
    expect(widget.messages("assistant").last).to_contain_text("code")
    widget.wait_idle()
    widget.send(desk.verification_code(address))


@pytest.mark.parametrize("store_platform", PLATFORMS)
def test_return_with_confirmation_buttons(widget: Widget, desk: SandboxDesk, store_platform: str) -> None:
    widget.open()
    widget.send(RETURN)
    enter_the_emailed_code(widget, desk, "ben.okafor@example.com")

    confirm = widget.card("confirm")
    yes = confirm.get_by_role("button", name="Yes")
    no = confirm.get_by_role("button", name="No")
    expect(yes).to_be_enabled()
    expect(no).to_be_enabled()
    expect(confirm).to_contain_text("#1002")
    screenshot(widget.page, "desktop-confirm")

    yes.click()

    expect(yes).to_be_disabled()
    expect(no).to_be_disabled()
    expect(widget.messages("shopper").last).to_have_text("yes")
    label = widget.card("label")
    expect(label).to_be_visible()
    expect(label.get_by_role("link", name="Download label")).to_have_attribute(
        "rel", re.compile(r"\bnoopener\b")
    )
    expect(label).to_contain_text("ben.okafor@example.com")
    widget.wait_idle()
    assert desk.emails_to("ben.okafor@example.com"), "no label email in the sandbox outbox"
    assert desk.order(1002).get("platform", "shopify") == store_platform
    if store_platform == "shopify":
        screenshot(widget.page, "desktop-label")


@pytest.mark.parametrize("store_platform", PLATFORMS)
def test_handoff_human_reply_and_back_to_the_bot(
    widget: Widget, desk: SandboxDesk, store_platform: str
) -> None:
    widget.open()
    widget.send(HUMAN)

    expect(widget.log.get_by_text("You're now chatting with our support team")).to_be_visible()
    expect(widget.panel).to_contain_text("A person from our team will reply here")
    widget.wait_idle()
    conversation = widget.conversation()

    desk.reply_as_agent(conversation, "Hi, I'm Rosa from the support team. How can I help?")

    agent = widget.messages("agent")
    expect(agent).to_have_count(1)
    expect(agent).to_contain_text("Hi, I'm Rosa from the support team.")
    expect(agent).to_contain_text("Rosa Alvarez")
    agent_background = agent.locator(".bubble").evaluate("node => getComputedStyle(node).backgroundColor")
    bot_background = (
        widget.messages("assistant")
        .last.locator(".bubble")
        .evaluate("node => getComputedStyle(node).backgroundColor")
    )
    assert agent_background != bot_background, "human messages must look different from the bot's"
    if store_platform == "shopify":
        screenshot(widget.page, "desktop-human-agent")

    desk.close_ticket(conversation)
    expect(widget.panel).to_contain_text("Usually answers in seconds")
    widget.send(WISMO)

    expect(widget.card("tracking")).to_be_visible()


def test_conversation_survives_a_reload(widget: Widget) -> None:
    widget.open()
    widget.send(WISMO)
    expect(widget.card("tracking")).to_be_visible()
    widget.wait_idle()
    conversation_id = widget.conversation_id()

    widget.page.reload()

    expect(widget.panel).to_be_visible()  # it was open: it stays open
    expect(widget.messages("shopper")).to_have_text([WISMO])
    expect(widget.card("tracking")).to_have_count(1)
    expect(widget.card("tracking")).to_contain_text("UPS")
    assert widget.conversation_id() == conversation_id
    widget.send("thanks!")
    expect(widget.messages("shopper")).to_have_count(2)
    widget.wait_idle()
    expect(widget.messages("shopper")).to_have_count(2)


def test_failed_send_shows_retry_with_the_same_message_id(widget: Widget) -> None:
    bodies: list[dict[str, str]] = []

    def fail_first(route: Route, request: Request) -> None:
        bodies.append(json.loads(request.post_data or "{}"))
        if len(bodies) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    widget.page.route(re.compile(r".*/api/conversations/[^/]+/messages$"), fail_first)
    widget.open()
    widget.send(WISMO)

    alert = widget.log.get_by_role("alert")
    expect(alert).to_contain_text("retry")
    alert.get_by_role("button", name="Retry").click()

    expect(widget.card("tracking")).to_be_visible()
    expect(alert).to_have_count(0)
    expect(widget.messages("shopper")).to_have_count(1)
    assert len(bodies) == 2
    assert bodies[0]["client_message_id"] == bodies[1]["client_message_id"]
    assert bodies[0]["text"] == bodies[1]["text"] == WISMO


def test_keyboard_only(widget: Widget, desk: SandboxDesk) -> None:
    widget.launcher.focus()
    widget.page.keyboard.press("Enter")
    expect(widget.panel).to_be_visible()
    expect(widget.input).to_be_focused()

    widget.page.keyboard.type(RETURN)
    widget.page.keyboard.press("Enter")
    expect(widget.messages("assistant").last).to_contain_text("code")
    widget.wait_idle()
    widget.page.keyboard.type(desk.verification_code("ben.okafor@example.com"))
    widget.page.keyboard.press("Enter")
    yes = widget.card("confirm").get_by_role("button", name="Yes")
    expect(yes).to_be_enabled()
    yes.focus()
    widget.page.keyboard.press("Tab")
    expect(widget.card("confirm").get_by_role("button", name="No")).to_be_focused()
    widget.page.keyboard.press("Enter")
    expect(widget.messages("shopper").last).to_have_text("no")
    widget.wait_idle()

    widget.page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    expect(widget.launcher).to_be_focused()


def test_text_is_never_html(widget: Widget) -> None:
    payload = '<img src=x onerror="document.title=`pwned`"><b>bold</b>'
    widget.open()
    widget.send(payload)

    expect(widget.messages("shopper")).to_have_text([payload])
    widget.wait_idle()
    assert widget.log.locator("img, b").count() == 0
    assert widget.page.title() != "pwned"


def test_phone_width_layout(phone_page: Page) -> None:
    widget = Widget(phone_page).open_store()
    widget.open()

    box = widget.panel.bounding_box()
    assert box is not None
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844)
    expect(widget.launcher).to_be_hidden()
    widget.send(WISMO)
    expect(widget.card("tracking")).to_be_visible()
    widget.wait_idle()
    screenshot(phone_page, "phone-tracking")

    widget.close_button.click()
    expect(widget.panel).to_be_hidden()
    expect(widget.launcher).to_be_visible()


def test_the_token_travels_in_headers_never_in_a_url(widget: Widget, desk: SandboxDesk) -> None:
    requests: list[Request] = []
    widget.page.on("request", lambda request: requests.append(request))
    widget.open()
    widget.send(HUMAN)
    expect(widget.log.get_by_text("You're now chatting with our support team")).to_be_visible()
    widget.wait_idle()
    conversation = widget.conversation()

    desk.reply_as_agent(conversation, "Rosa here, reading your order now.")
    expect(widget.messages("agent")).to_contain_text("Rosa here")

    assert all(conversation.token not in request.url for request in requests)
    calls = [r for r in requests if f"/api/conversations/{conversation.id}" in r.url]
    streams = [r for r in calls if r.url.endswith("/events")]
    assert streams, "the widget did not open the event stream"
    for request in calls:
        assert request.all_headers().get("authorization") == f"Bearer {conversation.token}", request.url


def test_event_stream_reconnects_after_it_drops(widget: Widget, desk: SandboxDesk) -> None:
    attempts: list[str] = []

    def drop_first(route: Route, request: Request) -> None:
        attempts.append(request.url)
        if len(attempts) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    widget.page.route(re.compile(r".*/api/conversations/[^/]+/events$"), drop_first)
    widget.open()
    widget.send(HUMAN)
    expect(widget.log.get_by_text("You're now chatting with our support team")).to_be_visible()
    widget.wait_idle()

    # The first stream failed; the widget backs off and connects again, then a person's reply arrives.
    desk.reply_as_agent(widget.conversation(), "Back online: Rosa here.")
    expect(widget.messages("agent")).to_contain_text("Back online: Rosa here.")
    assert len(attempts) >= 2


def test_a_spanish_speaking_shopper_gets_spanish_labels_and_replies(
    spanish_page: Page, desk: SandboxDesk
) -> None:
    # The widget's own words follow the browser's language; the reply follows what the shopper writes.
    spanish_page.goto("/")
    spanish_page.get_by_role("button", name=f"Abrir el chat con {STORE}").click()
    expect(spanish_page.get_by_role("dialog", name=STORE)).to_be_visible()
    log = spanish_page.get_by_role("log", name="Conversación")
    expect(log).to_contain_text(f"Soy el asistente de {STORE}")
    box = spanish_page.get_by_role("textbox", name="Mensaje")
    box.fill("Hola, ¿dónde está mi pedido 1001? ana.silva@example.com")
    box.press("Enter")

    tracking = log.locator('[data-card="tracking"]')
    expect(tracking).to_be_visible()
    expect(tracking).to_contain_text("Pedido #1001")
    expect(tracking).to_contain_text("En camino")
    expect(tracking).to_contain_text("Entrega estimada")
    expect(tracking.get_by_role("link", name="Seguir con UPS")).to_be_visible()
    expect(log.locator('[data-role="assistant"]').last).to_contain_text("Está en camino con UPS")
    expect(tracking).not_to_contain_text("Estimated delivery")
    screenshot(spanish_page, "desktop-tracking-es")


def test_a_spanish_speaking_shopper_is_handed_over_in_spanish(spanish_page: Page, desk: SandboxDesk) -> None:
    # The graph's own words (not the model's) follow the conversation's language too.
    spanish_page.goto("/")
    spanish_page.get_by_role("button", name=f"Abrir el chat con {STORE}").click()
    log = spanish_page.get_by_role("log", name="Conversación")
    box = spanish_page.get_by_role("textbox", name="Mensaje")
    box.fill("Hola, necesito hablar con una persona de atención al cliente, por favor")
    box.press("Enter")

    expect(log).to_contain_text("He pasado esta conversación a nuestro equipo de atención al cliente")
    expect(log).not_to_contain_text("I've passed this conversation")
    # The widget's own words around the hand-off follow the page's language as well.
    expect(log.get_by_text("Ahora hablas con nuestro equipo de atención al cliente")).to_be_visible()
    expect(spanish_page.get_by_text("Una persona de nuestro equipo te responderá aquí")).to_be_visible()
    expect(log).not_to_contain_text("You're now chatting")
    screenshot(spanish_page, "desktop-handoff-es")
