"""The offline model on store questions (help pages, the shopper's orders) and in the shopper's language."""

from __future__ import annotations

from string import Template

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from agent.language import conversation_language, detect
from agent.offline.chat_model import OfflineChatModel
from agent.offline.conversation import Conversation
from agent.offline.flows.formatting import alternatives
from agent.offline.flows.templates import placeholders, template_files, translations, variants
from agent.offline.nlu.entities import is_affirmative, is_negative
from agent.offline.nlu.order_numbers import order_number_in
from tests.offline.test_flows import (
    GLOVES,
    JACKET,
    Chat,
    item,
    model,
    order_view,
    return_eligibility,
    tracking_1001,
)
from tools.order_changes import AddressUpdated
from tools.orders import OrderDetails, RecentOrders
from tools.results import refuse
from tools.step_up import CODE_PLACEHOLDER, VerificationCodeSent
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
            translated = variants(file, language)
            # Complete: a missing situation would be answered in English, mid-conversation.
            assert sorted(set(english) - set(translated)) == [], (language, file)
            for situation, texts in translated.items():
                assert situation in english, (language, file, situation)
                assert len(texts) <= len(english[situation]), (language, file, situation)
                wanted = placeholders(english[situation][0])
                # A reply that waits for an answer ends with "?" (prompts/offline/README.md), in any language.
                endings = {t.rstrip().endswith("?") for t in english[situation]}
                for text in texts:
                    assert placeholders(text) == wanted, (language, file, situation)
                    assert text.rstrip().endswith("?") in endings, (language, file, situation)
                    if language == "es" and text.rstrip().endswith("?"):
                        assert "¿" in text, (file, situation, text)  # a Spanish question opens with "¿"


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
    assert alternatives(["Mug", "Beanie", "Gloves"], "es") == "Mug, Beanie o Gloves"
    assert alternatives(["Mug", "Beanie"], "fr") == "Mug ou Beanie"
    assert alternatives(["Mug", "Beanie"], "de") == "Mug oder Beanie"
    assert alternatives(["Mug", "Beanie"]) == "Mug or Beanie"
    assert alternatives(["Mug"], "es") == "Mug"


# -- the offline model's own questions and answers in Spanish, French and German -----------------


def _jacket_order() -> OrderDetails:
    return order_view("1004", "unfulfilled", [JACKET, GLOVES], total="354.00")


def test_a_spanish_address_change_is_asked_for_and_answered_in_spanish(model: OfflineChatModel) -> None:
    chat = Chat(model, verified="dev.patel@example.com")
    assert chat.shopper("quiero cambiar la dirección de envío del pedido #1004").intent == "order_change"
    chat.expect_call("lookup_order", order_number="1004")
    chat.answer(_jacket_order())
    ask = chat.expect_text()
    assert "nueva dirección" in ask
    assert "74 Grand St" in ask
    assert "?" in ask and "¿" in ask
    assert chat.shopper("12 Main St, Apt 4, Springfield, IL 62701, US").intent == "order_change"
    assert "address" in Conversation.from_messages(chat.messages).asked_for()  # the answer to its question
    chat.expect_call("lookup_order", order_number="1004")
    chat.answer(_jacket_order())
    args = chat.expect_call("update_shipping_address", order_number="1004")
    assert args["address"]["address1"] == "12 Main St"
    assert args["address"]["zip"] == "62701"
    chat.answer(AddressUpdated(order_number="1004", address="12 Main St, Apt 4, Springfield, IL 62701, US"))
    done = chat.expect_text()
    assert "12 Main St, Apt 4, Springfield, IL 62701, US" in done
    assert "pedido #1004" in done


def test_an_order_change_of_unknown_kind_is_asked_about_in_french(model: OfflineChatModel) -> None:
    chat = Chat(model, verified="dev.patel@example.com")
    chat.shopper("je voudrais modifier la commande 1004")
    chat.intent = "order_change"
    chat.expect_call("lookup_order", order_number="1004")
    chat.answer(_jacket_order())
    ask = chat.expect_text()
    assert "commande #1004" in ask
    assert "annuler" in ask
    assert ask.rstrip().endswith(" ?")
    assert "address" in Conversation.from_messages([*chat.messages, HumanMessage("l'adresse")]).asked_for()


def test_a_french_shopper_whose_code_expired_gets_a_new_one_in_french(model: OfflineChatModel) -> None:
    chat = Chat(model, verified="dev.patel@example.com")
    assert chat.shopper("annulez la commande 1004 s'il vous plaît").intent == "order_change"
    chat.expect_call("lookup_order", order_number="1004")
    chat.answer(_jacket_order())
    chat.expect_call("cancel_order", order_number="1004")
    chat.answer(refuse("step_up_required", "Send a code first.", order_number="1004"))
    chat.expect_call("send_verification_code", order_number="1004")
    sent = VerificationCodeSent(order_number="1004", sent_to="d***@example.com", valid_minutes=10)
    chat.answer(sent)
    assert "code à 6 chiffres" in chat.expect_text()
    chat.shopper(CODE_PLACEHOLDER)
    chat.intent = "order_change"
    chat.expect_call("check_verification_code", order_number="1004")
    chat.answer(refuse("verification_code_expired", "The code expired.", order_number="1004"))
    chat.expect_call("send_verification_code", order_number="1004")
    chat.answer(sent)
    reply = chat.expect_text()
    assert "Ce code a expiré" in reply or "ce code a expiré" in reply
    assert "d***@example.com" in reply
    assert "expired" not in reply


def test_a_german_refund_of_an_order_not_shipped_offers_the_cancellation_in_german(
    model: OfflineChatModel,
) -> None:
    chat = Chat(model, verified="dev.patel@example.com")
    assert chat.shopper("Ich möchte eine Erstattung für die Bestellung 1004").intent == "refunds"
    chat.expect_call("lookup_order", order_number="1004")
    chat.answer(_jacket_order())
    chat.expect_call("check_refund_eligibility", order_number="1004")
    chat.answer(refuse("not_delivered", "Not delivered yet.", order_number="1004"))
    reply = chat.expect_text()
    assert "Bestellung #1004" in reply
    assert "noch nicht versandt" in reply
    assert "stornieren" in reply
    assert "shipped" not in reply


@pytest.mark.parametrize(
    ("language", "question"),
    [
        ("es", "¿A cuál te refieres: Stoneware Mug Set o Merino Wool Beanie?"),
        ("es", "Para asegurarme de elegir el artículo correcto: ¿es Stoneware Mug Set o Merino Wool Beanie?"),
        ("fr", "Lequel voulez-vous dire : Stoneware Mug Set ou Merino Wool Beanie ?"),
        (
            "fr",
            "Pour être sûr de choisir le bon article : s'agit-il de Stoneware Mug Set ou Merino Wool Beanie ?",
        ),
        ("de", "Welchen Artikel meinen Sie: Stoneware Mug Set oder Merino Wool Beanie?"),
        ("de", "Damit ich den richtigen Artikel auswähle: Ist es Stoneware Mug Set oder Merino Wool Beanie?"),
    ],
)
def test_the_translated_questions_are_recognised_as_the_models_own(language: str, question: str) -> None:
    # Each variant of the item question, as the templates render it with the options joined in that language.
    options = alternatives(["Stoneware Mug Set", "Merino Wool Beanie"], language)
    assert question in [
        Template(t).substitute(options=options) for t in variants("common", language)["which_item"]
    ]
    asked = Conversation.from_messages([HumanMessage("x"), AIMessage(question), HumanMessage("y")])
    assert "item" in asked.asked_for()


@pytest.mark.parametrize("language", ["en", "es", "fr", "de"])
@pytest.mark.parametrize("situation", ["ask_address", "ask_address_current"])
def test_every_address_question_is_recognised_in_every_language(language: str, situation: str) -> None:
    for text in variants("order_change", language)[situation]:
        question = Template(text).substitute(
            order_number="1004", current="74 Grand St, Jersey City, NJ 07302, US"
        )
        asked = Conversation.from_messages([HumanMessage("x"), AIMessage(question), HumanMessage("y")])
        assert asked.asked_for() == {"address"}, question


@pytest.mark.parametrize(
    "question",
    [
        "Mit welcher E-Mail-Adresse haben Sie die Bestellung #1004 aufgegeben?",
        "Avec quelle adresse e-mail avez-vous passé la commande #1004 ?",
        "¿Con qué dirección de correo electrónico hiciste el pedido #1004?",
    ],
)
def test_an_email_address_question_is_not_a_shipping_address_question(question: str) -> None:
    asked = Conversation.from_messages([HumanMessage("x"), AIMessage(question), HumanMessage("y")])
    assert asked.asked_for() == {"email"}


def test_what_could_not_be_done_is_named_in_the_shoppers_language(model: OfflineChatModel) -> None:
    chat = Chat(model, verified="dev.patel@example.com")
    chat.shopper("quiero cancelar el pedido 1004")
    chat.intent = "order_change"
    chat.expect_call("lookup_order", order_number="1004")
    chat.answer(_jacket_order())
    chat.expect_call("cancel_order", order_number="1004")
    chat.answer(refuse("vendor_rejected", "Rejected by the platform.", order_number="1004"))
    reply = chat.expect_text()
    assert "para el pedido #1004" in reply
    assert "order #" not in reply


def test_a_spanish_shopper_is_asked_which_item_in_spanish_and_the_answer_picks_it(
    model: OfflineChatModel,
) -> None:
    beanie, socks = (
        ("520000100202", "Merino Wool Beanie - Navy"),
        ("520000100203", "Merino Wool Socks - Grey"),
    )
    chat = Chat(model, verified="ben.okafor@example.com")
    assert chat.shopper("quiero devolver el merino del pedido 1002").intent == "returns"
    chat.expect_call("check_return_eligibility", order_number="1002")
    chat.answer(return_eligibility("1002", item(beanie), item(socks)))
    ask = chat.expect_text()
    assert "Merino Wool Beanie - Navy o Merino Wool Socks - Grey" in ask
    assert ask.rstrip().endswith("?")
    assert ask.startswith(("¿A cuál", "Para asegurarme"))
    assert chat.shopper("el gorro, Merino Wool Beanie").intent == "returns"
    assert "item" in Conversation.from_messages(chat.messages).asked_for()
    chat.expect_call("check_return_eligibility", order_number="1002")
    chat.answer(return_eligibility("1002", item(beanie), item(socks)))
    chat.expect_call("create_return_label", order_number="1002", line_item_ids=[beanie[0]])


@pytest.mark.parametrize(
    "question",
    [
        "y cuándo llega?",
        "¿qué día me lo entregan?",
        "et quel jour sera-t-elle livrée ?",
        "c'est quel transporteur ?",
        "und wann kommt sie an?",
        "welcher Paketdienst bringt es?",
    ],
)
def test_parcel_follow_ups_in_other_languages_are_about_the_tracked_order(question: str) -> None:
    from agent.offline.nlu.intent_result import _PARCEL_FOLLOW_UP

    assert _PARCEL_FOLLOW_UP.search(question), question


@pytest.mark.parametrize("question", ["¿cuál es la capital de Francia?", "quelle heure est-il à Tokyo ?"])
def test_general_questions_in_other_languages_are_no_parcel_follow_up(question: str) -> None:
    from agent.offline.nlu.intent_result import _PARCEL_FOLLOW_UP

    assert not _PARCEL_FOLLOW_UP.search(question), question
