"""The offline model on store questions (help pages, the shopper's orders) and in the shopper's language."""

from __future__ import annotations

import pytest

from agent.language import conversation_language, detect
from agent.offline.chat_model import OfflineChatModel
from agent.offline.flows.templates import placeholders, template_files, translations, variants
from agent.offline.nlu.entities import is_affirmative, is_negative
from agent.offline.nlu.order_numbers import order_number_in
from tests.offline.test_flows import Chat, model, tracking_1001
from tools.orders import RecentOrders
from tools.results import refuse
from tools.store_help import HelpAnswer, StoreHelp

__all__ = ["model"]  # the fixture, shared with test_flows

FINAL_SALE = HelpAnswer(
    source="Final sale › What does final sale mean?", file="final-sale.md", text="Sold as is: no returns."
)


def test_a_store_question_is_answered_from_the_help_pages_with_its_source(model: OfflineChatModel) -> None:
    chat = Chat(model)
    assert chat.shopper("what does final sale mean?").intent == "store_help"
    chat.expect_call("search_store_help", question="what does final sale mean?")
    chat.answer(StoreHelp(found=True, answers=[FINAL_SALE]))
    reply = chat.expect_text()
    assert "Final sale › What does final sale mean?" in reply
    assert "Sold as is: no returns." in reply


def test_nothing_found_is_i_dont_know_and_a_yes_hands_over(model: OfflineChatModel) -> None:
    chat = Chat(model)
    chat.shopper("do you have a policy on engraving?")
    chat.intent = "store_help"
    chat.expect_call("search_store_help")
    chat.answer(StoreHelp(found=False, answers=[]))
    reply = chat.expect_text()
    assert "don't know" in reply
    assert reply.rstrip().endswith("?")
    assert chat.shopper("yes please").intent == "store_help"
    args = chat.expect_call("escalate_to_human")
    assert "help pages" in args["reason"]


def test_declining_the_person_ends_politely(model: OfflineChatModel) -> None:
    chat = Chat(model)
    chat.shopper("is there a policy on engraving?")
    chat.intent = "store_help"
    chat.expect_call("search_store_help")
    chat.answer(StoreHelp(found=False, answers=[]))
    chat.expect_text()
    chat.shopper("no thanks")
    chat.intent = "store_help"
    assert "escalate_to_human" not in [c["name"] for c in chat.step().tool_calls]


def test_a_signed_in_shopper_gets_their_orders_listed(model: OfflineChatModel) -> None:
    chat = Chat(model, verified="ana.silva@example.com")
    assert chat.shopper("which orders do I have?").intent == "store_help"
    chat.expect_call("lookup_order", order_number=None)
    chat.answer(RecentOrders(orders=[]))
    assert "couldn't find any orders" in chat.expect_text()


def test_a_shopper_not_signed_in_is_asked_who_they_are_first(model: OfflineChatModel) -> None:
    chat = Chat(model)
    chat.shopper("show me my order history")
    chat.intent = "store_help"
    chat.expect_call("lookup_order", order_number=None)
    chat.answer(refuse("not_verified", "Verify the shopper first."))
    assert "email" in chat.expect_text()
    chat.shopper("ana.silva@example.com and 1001")
    chat.intent = "store_help"
    chat.verify("ana.silva@example.com", "1001", "Ana")
    chat.expect_call("lookup_order", order_number=None)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("¿dónde está mi pedido?", "es"),
        ("je voudrais retourner la commande", "fr"),
        ("wo ist meine Bestellung", "de"),
        ("where is my order please", "en"),
        ("sí", "es"),
        ("oui", "fr"),
        ("danke", "de"),
        ("1001", None),
        ("ana.silva@example.com", None),
        ("ok", None),
    ],
)
def test_language_detection(text: str, language: str | None) -> None:
    assert detect(text) == language


def test_a_conversation_keeps_its_language_through_short_answers() -> None:
    assert conversation_language(["1001", "ana.silva@example.com", "hola, ¿dónde está mi pedido?"]) == "es"
    assert conversation_language(["ok"]) == "en"
    assert (
        conversation_language(["onde está a minha encomenda, por favor?"]) == "en"
    )  # no Portuguese templates


@pytest.mark.parametrize(
    ("text", "number"),
    [("mi pedido n.º 1002", "1002"), ("la commande 1002", "1002"), ("Bestellung Nr. 1001", "1001")],
)
def test_order_numbers_in_other_languages(text: str, number: str) -> None:
    assert order_number_in(text) == number


@pytest.mark.parametrize(
    "yes", ["sí", "sí, por favor", "claro", "oui", "d'accord", "ja", "ja bitte", "genau"]
)
def test_yes_in_other_languages(yes: str) -> None:
    assert is_affirmative(yes)


@pytest.mark.parametrize("no", ["non", "non merci", "nein", "nein danke", "mejor no"])
def test_no_in_other_languages(no: str) -> None:
    assert is_negative(no)


def test_a_spanish_conversation_is_answered_in_spanish(model: OfflineChatModel) -> None:
    chat = Chat(model)
    assert chat.shopper("hola, ¿dónde está mi pedido?").intent == "wismo"
    asked = chat.expect_text()
    assert "correo electrónico" in asked
    assert chat.shopper("ana.silva@example.com").intent == "wismo"
    assert "número de pedido" in chat.expect_text()
    assert chat.shopper("1001").intent == "wismo"  # the number it asked for, in Spanish
    chat.verify("ana.silva@example.com", "1001", "Ana")
    chat.expect_call("get_tracking_status", order_number="1001")
    chat.answer(tracking_1001())
    reply = chat.expect_text()
    assert "pedido #1001" in reply
    assert "número de seguimiento" in reply


@pytest.mark.parametrize(
    ("greeting", "words"), [("bonjour", "Bonjour"), ("hallo", "Hallo"), ("hola", "Hola"), ("hi", "Hi")]
)
def test_greetings_are_answered_in_kind(model: OfflineChatModel, greeting: str, words: str) -> None:
    chat = Chat(model)
    chat.shopper(greeting)
    assert words in chat.expect_text()


def test_translations_mirror_the_english_templates() -> None:
    assert set(translations()) >= {"es", "fr", "de"}
    for language in translations():
        for file in template_files():
            english = variants(file)
            for situation, texts in variants(file, language).items():
                assert situation in english, (language, file, situation)
                wanted = placeholders(english[situation][0])
                # A reply that waits for an answer ends with "?" (prompts/offline/README.md), in any language.
                endings = {t.rstrip().endswith("?") for t in english[situation]}
                for text in texts:
                    assert placeholders(text) == wanted, (language, file, situation)
                    assert text.rstrip().endswith("?") in endings, (language, file, situation)


def test_dates_and_lists_in_replies_follow_the_shoppers_language() -> None:
    from datetime import date

    from agent.offline.flows.formatting import day, join

    today = date(2026, 11, 20)  # a Friday
    sunday = "2026-11-22T15:00:00Z"
    assert day(sunday, today) == "Sunday, November 22"
    assert day(sunday, today, "es") == "domingo, 22 de noviembre"
    assert day(sunday, today, "fr") == "dimanche 22 novembre"
    assert day(sunday, today, "de") == "Sonntag, 22. November"
    assert [day("2026-11-19T09:00:00Z", today, lang) for lang in ("en", "es", "fr", "de")] == [
        "yesterday",
        "ayer",
        "hier",
        "gestern",
    ]
    assert day("2026-11-21T09:00:00Z", today, "es") == "mañana"
    assert day(sunday, today, "pt") == "Sunday, November 22"  # no templates in that language: English
    assert join(["Mug", "Beanie", "Gloves"], "fr") == "Mug, Beanie et Gloves"
    assert join(["Mug", "Beanie"], "de") == "Mug und Beanie"
    assert join(["Mug", "Beanie"]) == "Mug and Beanie"


@pytest.mark.parametrize(
    ("language", "question", "source", "intro"),
    [
        (
            "es",
            "¿cuánto tiempo tengo para devolver algo?",
            "Devoluciones y cambios › ¿Cuánto tiempo tengo para devolver algo?",
            "De nuestra página de ayuda",
        ),
        (
            "fr",
            "combien de temps ai-je pour retourner un article ?",
            "Retours et échanges › Combien de temps ai-je pour retourner un article ?",
            "D'après notre page d'aide",
        ),
        (
            "de",
            "wie lange habe ich Zeit für eine Rücksendung?",
            "Rücksendungen und Umtausch › Wie lange kann ich etwas zurückschicken?",
            "Aus unserer Hilfeseite",
        ),
    ],
)
def test_a_store_question_in_another_language_searches_its_pages(
    model: OfflineChatModel, language: str, question: str, source: str, intro: str
) -> None:
    chat = Chat(model)
    assert chat.shopper(question).intent == "store_help"
    chat.expect_call("search_store_help", question=question, language=language)
    chat.answer(
        StoreHelp(
            found=True,
            answers=[HelpAnswer(source=source, file="returns.md", text="30 …", language=language)],
        )
    )
    reply = chat.expect_text()
    assert intro in reply
    assert source in reply
    assert "30 …" in reply


@pytest.mark.parametrize(
    ("question", "says"),
    [
        ("hola, ¿aceptáis PayPal o Klarna?", "solo está en inglés"),
        ("acceptez-vous PayPal ou Klarna ?", "n'existe qu'en anglais"),
        ("akzeptiert ihr PayPal oder Klarna?", "nur auf Englisch"),
    ],
)
def test_an_answer_from_an_english_page_says_so_in_the_shoppers_language(
    model: OfflineChatModel, question: str, says: str
) -> None:
    chat = Chat(model)
    assert chat.shopper(question).intent == "store_help"
    chat.expect_call("search_store_help")
    methods = HelpAnswer(
        source="Payment › Payment methods",
        file="payment.md",
        text="We accept Visa, PayPal and Klarna.",
        language="en",
    )
    chat.answer(StoreHelp(found=True, answers=[methods], fallback=True))
    reply = chat.expect_text()
    assert says in reply
    assert "Payment › Payment methods" in reply
    assert "We accept Visa, PayPal and Klarna." in reply


def test_an_english_conversation_passes_english(model: OfflineChatModel) -> None:
    chat = Chat(model)
    chat.shopper("what does final sale mean?")
    chat.expect_call("search_store_help", language="en")
    chat.answer(StoreHelp(found=True, answers=[FINAL_SALE]))
    assert "only available in English" not in chat.expect_text()
