"""Entity extraction: the forms shoppers actually type, and the look-alikes that must be ignored."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agent.offline.nlu.entities import (
    extract_all_order_numbers,
    extract_amount,
    extract_email,
    extract_order_number,
    extract_tracking_number,
    is_affirmative,
    is_negative,
    is_threat,
    match_line_items,
    order_change_kind,
    split_requests,
)

# --------------------------------------------------------------------------------------------
# Order numbers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#1001", "1001"),
        ("where is #1001?", "1001"),
        ("order 1002 hasn't arrived", "1002"),
        ("Order #1003 please", "1003"),
        ("order#1004", "1004"),
        ("no. 1005", "1005"),
        ("it's order no 1006", "1006"),
        ("my order number is 1007", "1007"),
        ("order number: 1008", "1008"),
        ("purchase 1009 status", "1009"),
        ("1010", "1010"),
        ("1011.", "1011"),
        ("it's 1012 thanks", "1012"),
        ("actually it's #1013", "1013"),
        ("what about 1014?", "1014"),
        ("I paid $45.00 for order 1015", "1015"),
        ("apt #305, order #1016", "1016"),
        ("ticket #4521 is about order 1017", "1017"),
        ("cancel purchase 113542617735902", "113542617735902"),
        ("change the address on order 1018 to 12 Oak St, Springfield, IL 62704", "1018"),
    ],
)
def test_extract_order_number_recognises_typed_forms(text: str, expected: str) -> None:
    assert extract_order_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wheres my pakage?? ordr 1001 emial ana.silva@example.com", "1001"),
        ("i wanna retrun the beanie from ordr 1002 ben.okafor@example.com", "1002"),
        ("oder #1003 is late", "1003"),
        ("orde 1004", "1004"),
        ("odrer no. 1005", "1005"),
        ("ordre nubmer 1006", "1006"),
        ("my oredr numer is 1007", "1007"),
        ("purchse 1008", "1008"),
        ("numbr 1009", "1009"),
        ("ordr 113542617735902", "113542617735902"),
        ("not ordr #1001 but #1002", "1002"),
    ],
)
def test_extract_order_number_reads_misspelt_order_words(text: str, expected: str) -> None:
    assert extract_order_number(text) == expected


@pytest.mark.parametrize(
    "text",
    ["the border 1001", "recorder 2000 watts", "ordr 2 weeks ago", "ordr 100 days ago"],
)
def test_misspelt_order_words_keep_their_guards(text: str) -> None:
    assert extract_order_number(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "where is my order?",
        "I paid $45.00",
        "$1001",
        "45.00",
        "it cost 100.00",
        "I ordered it in 2023",
        "call me at 555-123-4567",
        "my phone number 5551234567",
        "my address is 12 Oak St, Springfield, IL 62704",
        "tracking number 9400111899223197428490",
        "tracking no. 123456789012",
        "1Z999AA10123456784",
        "EZ1000000001",
        "my invoice #12588",
        "I placed the order 100 days ago",
        "order 2 weeks ago",
        "1001 1002",
        "I bought 3 mugs",
    ],
)
def test_extract_order_number_ignores_look_alikes(text: str) -> None:
    assert extract_order_number(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("where is #1001? sorry, I meant #1002", "1002"),
        ("order 1001, actually no, order 1003", "1003"),
        ("#1001 oops wrong number, it's #1004", "1004"),
        ("I meant #1002 not #1001", "1002"),
        ("not #1001 but #1002", "1002"),
        ("#1001 and #1002 are both late", "1001"),
        ("where are orders 1001 and 1002", "1001"),
    ],
)
def test_extract_order_number_resolves_several_mentions(text: str, expected: str) -> None:
    assert extract_order_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("where are orders 1001 and 1002", ["1001", "1002"]),
        ("#1001, #1002 and #1003", ["1001", "1002", "1003"]),
        ("#1001 and order #1001 again", ["1001"]),
        ("order 1001 and 500 dollars", ["1001"]),
        ("no order here", []),
    ],
)
def test_extract_all_order_numbers_in_reading_order(text: str, expected: list[str]) -> None:
    assert extract_all_order_numbers(text) == expected


# --------------------------------------------------------------------------------------------
# Email, tracking numbers, amounts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my email is jane.doe@example.com", "jane.doe@example.com"),
        ("Jane.Doe+shop@Example.co.uk.", "Jane.Doe+shop@Example.co.uk"),
        ("it's mike_r@gmail.com, order #1001", "mike_r@gmail.com"),
        ("a@b.co and c@d.com", "a@b.co"),
        ("email me at jane at example dot com", None),
        ("@handle on instagram", None),
    ],
)
def test_extract_email(text: str, expected: str | None) -> None:
    assert extract_email(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("UPS says 1Z999AA10123456784 is delayed", "1Z999AA10123456784"),
        ("tracking 1z999aa10123456784", "1Z999AA10123456784"),
        ("usps 9400111899223197428490", "9400111899223197428490"),
        ("usps 9400 1118 9922 3197 4284 90.", "9400111899223197428490"),
        ("fedex 123456789012", "123456789012"),
        ("fedex tracking is 123456789012345", "123456789012345"),
        ("EZ1000000001", "EZ1000000001"),
        ("the code ez4000000004 shows nothing", "EZ4000000004"),
        ("order 123456789012", None),
        ("call 555 123 4567", None),
        ("order #1001", None),
        ("", None),
    ],
)
def test_extract_tracking_number(text: str, expected: str | None) -> None:
    assert extract_tracking_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$45", Decimal("45")),
        ("refund my $45.50 please", Decimal("45.50")),
        ("45.50", Decimal("45.50")),
        ("45 dollars", Decimal("45")),
        ("€30", Decimal("30")),
        ("it cost 30€", Decimal("30")),
        ("£ 12.99", Decimal("12.99")),
        ("$1,200.50 was charged", Decimal("1200.50")),
        ("charged $20 then $30", Decimal("20")),
        ("I paid 45", None),
        ("order #1001", None),
        ("on 12.05.2023", None),
        ("", None),
    ],
)
def test_extract_amount(text: str, expected: Decimal | None) -> None:
    assert extract_amount(text) == expected


# --------------------------------------------------------------------------------------------
# Line items
# --------------------------------------------------------------------------------------------

ITEMS = ["Blue Ceramic Mug", "Red T-Shirt (M)", "Blue Hoodie"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the mug", [0]),
        ("the mugg", [0]),
        ("the red shirt", [1]),
        ("the tshirt", [1]),
        ("the hoodie please", [2]),
        ("the blue mug", [0]),
        ("the shirt and the mug", [0, 1]),
        ("the blue one", [0, 2]),  # ambiguous: both blue items, the caller asks which
        ("both", [0, 1, 2]),
        ("all of them", [0, 1, 2]),
        ("everything", [0, 1, 2]),
        ("return all", [0, 1, 2]),
        ("the second one", [1]),
        ("the last one", [2]),
        ("that's all, just the hoodie", [2]),
        ("nothing", []),
        ("the lamp", []),
    ],
)
def test_match_line_items(text: str, expected: list[int]) -> None:
    assert match_line_items(text, ITEMS) == expected


def test_match_line_items_prefers_the_item_matching_most_words() -> None:
    items = ["Blue Mug", "Blue Shirt", "Red Mug"]
    assert match_line_items("the blue mug", items) == [0]
    assert match_line_items("red mug", items) == [2]


def test_match_line_items_threshold_and_edge_cases() -> None:
    assert match_line_items("the mug", []) == []
    assert match_line_items("the fifth one", ITEMS) == []
    assert match_line_items("the mvg", ["Mug"], threshold=60) == [0]
    assert match_line_items("the mvg", ["Mug"], threshold=90) == []


# --------------------------------------------------------------------------------------------
# Yes / no
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["yes", "Yes please", "yep go ahead", "sure", "ok", "k", "y", "go for it", "sounds good!", "👍",
     "yes cancel it", "no problem, go ahead", "absolutely", "that's right", "Confirmed."],
)  # fmt: skip
def test_is_affirmative(text: str) -> None:
    assert is_affirmative(text)
    assert not is_negative(text)


@pytest.mark.parametrize(
    "text",
    ["no", "Nope", "nah", "n", "don't", "don't do it", "cancel that", "no thanks", "absolutely not",
     "that's not right", "stop", "never mind", "wait"],
)  # fmt: skip
def test_is_negative(text: str) -> None:
    assert is_negative(text)
    assert not is_affirmative(text)


@pytest.mark.parametrize(
    "text",
    ["", "maybe", "not sure", "I'm not sure yet", "hmm", "yes but don't charge me", "no, go ahead",
     "where is my order?", "I don't know"],
)  # fmt: skip
def test_ambiguous_answers_are_neither(text: str) -> None:
    assert not is_affirmative(text)
    assert not is_negative(text)


@pytest.mark.parametrize(
    "text",
    ["do it now or my lawyer will be in touch", "yes, or I'm filing a chargeback", "ok, I'll sue you otherwise",
     "yes, or I'll dispute the charge with my bank", "go ahead before I take you to small claims"],
)  # fmt: skip
def test_a_threat_is_never_a_yes(text: str) -> None:
    assert is_threat(text)
    assert not is_affirmative(text)
    assert not is_negative(text)


@pytest.mark.parametrize(
    "text",
    ["yes", "my name is Sue", "is this legal?", "my bank says the refund hasn't arrived", "court shoes",
     "I dispute that it was late, but fine"],
)  # fmt: skip
def test_everyday_words_are_not_threats(text: str) -> None:
    assert not is_threat(text)


# --------------------------------------------------------------------------------------------
# Order change kind
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cancel my order", "cancel"),
        ("please cancle #1001", "cancel"),
        ("I don't want it anymore", "cancel"),
        ("don't ship it", "cancel"),
        ("I need to change the shipping address", "address"),
        ("wrong adress on my order", "address"),
        ("I moved, ship it to my new place", "address"),
        ("don't cancel it, just fix the address", "address"),
        ("wait don't ship it, the address is wrong", "address"),
        ("cancel it, or else ship to my office", "cancel"),
        ("update the zip code to 10001", "address"),
        ("what's up", None),
        ("", None),
    ],
)
def test_order_change_kind(text: str, expected: str | None) -> None:
    assert order_change_kind(text) == expected


# --------------------------------------------------------------------------------------------
# Splitting requests
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "where is #1001 and I also want to return #1002",
            ["where is #1001", "I want to return #1002"],
        ),
        (
            "Hi there. Where is my order? Also I want a human",
            ["Hi there. Where is my order?", "I want a human"],
        ),
        ("cancel #1001 and refund me", ["cancel #1001", "refund me"]),
        ("where is #1001 and where is #1002", ["where is #1001", "where is #1002"]),
        (
            "I want to return the shoes, also can you tell me where #1002 is?",
            ["I want to return the shoes", "can you tell me where #1002 is?"],
        ),
    ],
)
def test_split_requests_separates_distinct_requests(text: str, expected: list[str]) -> None:
    assert split_requests(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I want to return the mug and the shirt",
        "where is my order and when will it arrive",
        "where is #1001 and #1002",
        "I want to return it and get my money back",
        "I'm so angry, where is my package? This is ridiculous.",
        "hi",
        "thanks, bye",
    ],
)
def test_split_requests_keeps_single_requests_whole(text: str) -> None:
    assert split_requests(text) == [text]


def test_split_requests_normalises_whitespace_and_empty() -> None:
    assert split_requests("") == []
    assert split_requests("   ") == []
    assert split_requests("  where is   my order  ") == ["where is my order"]
