"""The NLU pieces behind conversations that do not dead-end (issue #15): lone order numbers,
loose item names, declines, frustration, delivered-but-not-received, requests inside stories."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from agent.offline.conversation import Conversation
from agent.offline.nlu.address import address_start, parse_address
from agent.offline.nlu.entities import (
    ambiguous_line_items,
    changes_request,
    is_affirmative,
    is_negative,
    match_line_items,
    order_change_kind,
)
from agent.offline.nlu.frustration import claims_not_received, delivered_not_received, is_frustrated
from agent.offline.nlu.intent_result import answers_the_question
from agent.offline.nlu.language import is_request
from agent.offline.nlu.order_numbers import lone_number, order_number_in


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("when will 1011 get here? isabel.romero@example.com", "1011"),
        ("should be 1013 I think", "1013"),
        ("number's 1028.", "1028"),
        ("the one ending 1029", "1029"),
        ("has 1005 been delivered?", "1005"),
        ("Please ship 1004 to 77 Birch Lane, Austin, TX 78701 instead", "1004"),
        ("I paid 1200", None),
        ("bought it in 2024", None),
        ("my zip is 62701", None),
        ("call me at 555-1234", None),
        ("1200 dollars", None),
        ("the 750 ml bottle", None),
        ("is it 1001 or 1002?", None),
        ("send it to 12 Main St, Springfield, IL 62701", None),
    ],
)
def test_a_lone_number_is_the_order_number(text: str, number: str | None) -> None:
    assert order_number_in(text) == number


def test_the_address_starts_at_its_street_number_not_at_the_order_number() -> None:
    text = "Please ship 1004 to 77 Birch Lane, Austin, TX 78701 instead"
    start = address_start(text)
    assert start is not None
    assert text[start:].startswith("77 Birch Lane")
    parsed = parse_address(text)
    assert parsed is not None
    assert parsed.address1 == "77 Birch Lane"


MERINO = ["Merino Wool Beanie - Grey", "Merino Hiking Socks 3-Pack - M"]


@pytest.mark.parametrize(
    ("text", "items", "chosen"),
    [
        ("the sneakers from 1016", ["Trail Running Shoes - Men's 10 / Charcoal", MERINO[1]], [0]),
        ("the hat from 1022", MERINO, [0]),
        ("the cups, one was chipped", ["Enamel Camp Mug - Blue", "Leather Field Journal"], [0]),
        ("the water flask", ["Rechargeable LED Lantern", "Insulated Bottle 750 ml - Forest Green"], [1]),
        ("the bag isn't for me", ["Waxed Canvas Tote - Natural", "Leather Field Journal"], [0]),
        ("the notebook", ["Waxed Canvas Tote - Natural", "Leather Field Journal"], [1]),
        ("the frying pan", ["Cast Iron Skillet 10in", "Leather Work Gloves - L"], [0]),
        ("the navy one", ["Stoneware Mug Set - Set of 4 / Sand", "Merino Wool Beanie - Navy"], [1]),
        ("the kettle", ["Cast Iron Skillet 10in", "Leather Work Gloves - L"], []),
    ],
)
def test_items_named_by_kind_variant_or_synonym(text: str, items: list[str], chosen: list[int]) -> None:
    assert match_line_items(text, items) == chosen
    assert ambiguous_line_items(text, items) == []


def test_a_name_that_fits_several_items_is_ambiguous() -> None:
    assert ambiguous_line_items("the merino one from 1022", MERINO) == [0, 1]
    assert ambiguous_line_items("the merino socks", MERINO) == []
    assert ambiguous_line_items("both merino ones", MERINO) == []
    assert ambiguous_line_items("the socks", MERINO) == []


@pytest.mark.parametrize(
    "text",
    [
        "hmm, on second thought keep it as it is",
        "keep it as is",
        "ok, keep it as it is",
        "leave it",
        "i'll keep them",
    ],
)
def test_keeping_things_as_they_are_is_a_no(text: str) -> None:
    assert is_negative(text)
    assert not is_affirmative(text)


@pytest.mark.parametrize(
    "text",
    [
        "this is useless",
        "you're not helping at all",
        "honestly what a waste of time this bot is",
        "you keep giving me the same answer over and over",
        "this bot is useless",
        "we're going round in circles",
    ],
)
def test_frustration_with_the_assistant(text: str) -> None:
    assert is_frustrated(text)


@pytest.mark.parametrize(
    "text",
    [
        "the lantern is useless, it won't hold a charge. can I send it back?",
        "that's really helpful, thanks!",
        "This is RIDICULOUS!!! Where the hell is my order",
    ],
)
def test_anger_or_a_useless_product_is_not_frustration_with_the_assistant(text: str) -> None:
    assert not is_frustrated(text)


def test_delivered_but_not_received() -> None:
    assert delivered_not_received("tracking says delivered but I never got it")
    assert delivered_not_received("it shows as delivered but it's not on my porch")
    assert delivered_not_received("marked delivered, nothing at my door")
    assert not delivered_not_received("has it been delivered?")
    assert not delivered_not_received("did it arrive?")
    assert claims_not_received("I never received it")
    assert not claims_not_received("it arrived yesterday, thanks")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Please ship 1004 to 77 Birch Lane, Austin, TX 78701 instead", "address"),
        ("Can you send order 1012 somewhere else? I'm moving next week.", "address"),
        ("can order 1030 go to my office instead?", "address"),
        ("Is there any way I could still cancel 1030?", "cancel"),
        ("I want to send it back", None),
    ],
)
def test_order_change_kind_in_indirect_words(text: str, kind: str | None) -> None:
    assert order_change_kind(text) == kind


def test_a_request_is_told_from_the_story_around_it() -> None:
    assert is_request("Can I get my money back on the shirt?")
    assert is_request("I'd like to return them")
    assert not is_request("So the parcel came, the box was fine and the socks are great.")
    assert not is_request("She loved the colour though!")


def _conversation(*turns: tuple[str, str]) -> Conversation:
    messages: list[BaseMessage] = []
    for role, text in turns:
        messages.append(HumanMessage(text) if role == "shopper" else AIMessage(text))
    return Conversation.from_messages(messages)


def test_what_the_agent_asked_for_last_is_state() -> None:
    asked = _conversation(
        ("shopper", "where is my lantern"),
        ("agent", "Got it. And the order number? It's in your confirmation email, something like #1001."),
        ("shopper", "um 998 i believe"),
    )
    assert asked.asked_for() == {"order_number"}
    assert answers_the_question(asked, "um 998 i believe")
    both = _conversation(
        ("shopper", "hi"),
        ("agent", "Could you send me the email address on the order and the order number?"),
        ("shopper", "sure"),
    )
    assert both.asked_for() == {"order_number", "email"}
    told = _conversation(("shopper", "hi"), ("agent", "Your parcel is on its way."), ("shopper", "998"))
    assert told.asked_for() == frozenset()
    assert not answers_the_question(told, "998")


@pytest.mark.parametrize(
    ("text", "number"),
    [("um 998 i believe", "998"), ("it was #1013 or so", "1013"), ("1001 or 1002", None), ("no idea", None)],
)
def test_the_one_number_of_an_answer(text: str, number: str | None) -> None:
    assert lone_number(text) == number


def test_a_no_that_asks_for_something_else_changes_the_request() -> None:
    assert changes_request("wait, actually I'd rather return it for a label")
    assert changes_request("no, can I get a refund instead?")
    assert not changes_request("no thanks")
    assert not changes_request("keep it as it is")
    assert is_affirmative("on second thought, go ahead")
    assert not is_negative("leave it at the door")
