"""The graph's own texts follow the shopper's language: the confirmation question and the tools'
previews (exclusions included), the hand-off confirmation, the apology when the model fails, the
team's approval outcome and the hand-back. What the team reads on the ticket stays in the store's
language (English)."""

from __future__ import annotations

from prompts.templates import placeholders, say, template_files, translations, variants
from tests.agent.conftest import EMAILS, Agent, call, verify
from tests.agent.scripted_model import intent


def test_every_fixed_text_is_translated_with_the_same_variables() -> None:
    assert set(translations("fixed")) == {"es", "fr", "de"}
    for file in template_files("fixed"):
        english = variants("fixed", file)
        for language in translations("fixed"):
            translated = variants("fixed", file, language)
            assert set(translated) == set(english), (language, file)
            for situation, texts in translated.items():
                for text in texts:
                    assert placeholders(text) == placeholders(english[situation][0]), (language, situation)
                    assert text not in english[situation], (language, situation)  # really translated


async def test_a_french_cancellation_is_previewed_and_confirmed_in_french(agent: Agent) -> None:
    agent.script(
        intent("order_change", order_number="1004"),
        verify("1004"),
        call("cancel_order", order_number="1004", reason="changed my mind"),
    )
    cid = await agent.start()

    asked = await agent.say(cid, f"Bonjour, je voudrais annuler ma commande 1004, {EMAILS['1004']}")

    assert asked.status == "awaiting_confirmation"
    question = asked.messages[-1]
    assert question.text.startswith("Annuler la commande #1004 et rembourser ")
    assert question.text.endswith("Je continue ? (oui/non)")
    assert "Articles : " in question.text
    assert question.card is not None and question.card.summary.startswith("Annuler la commande #1004")
    assert agent.order("1004")["cancelled_at"] is None  # nothing before the yes

    agent.script("C'est fait.")
    done = await agent.say(cid, "oui")

    assert done.status == "active"
    assert agent.order("1004")["cancelled_at"] is not None


async def test_a_german_whole_order_refund_names_the_final_sale_item_in_german_before_the_yes(
    agent: Agent,
) -> None:
    agent.script(
        intent("refunds", order_number="1006"),
        verify("1006"),
        call("issue_refund", order_number="1006", line_item_ids=None, reason="gefällt mir nicht"),
    )
    cid = await agent.start()

    asked = await agent.say(cid, f"Guten Tag, bitte erstatten Sie meine Bestellung 1006, {EMAILS['1006']}")

    assert asked.status == "awaiting_confirmation"
    text = asked.messages[-1].text
    assert "für Bestellung #1006 an die ursprüngliche Zahlungsmethode erstatten." in text
    assert (
        "Nicht enthalten: Polarized Sunglasses - Tortoise: Artikel aus dem Final Sale können nicht zurückgegeben werden"
        in text
    )
    assert text.endswith("Soll ich fortfahren? (ja/nein)")
    assert agent.world.stripe.refunds == {}
    # The model hears the refusal reasons in English (its instructions are English).
    agent.script("Kein Problem.")
    await agent.say(cid, "nein")
    declined = (await agent.tool_results(cid))[-1]
    assert "The shopper did not confirm" in str(declined.content)
    assert agent.world.stripe.refunds == {}


async def test_a_spanish_handoff_is_confirmed_in_spanish_and_summarised_in_english(agent: Agent) -> None:
    agent.script(intent("escalation"))
    cid = await agent.start()

    turn = await agent.say(cid, "Hola, quiero hablar con una persona, por favor")

    assert turn.status == "human_handling"
    assert turn.said()[-1] == say("handoff.handed_over", "es")
    assert turn.said()[-1].startswith("He pasado esta conversación a nuestro equipo")
    handoff_events = [e for e in turn.events if e.type == "handoff"]
    assert [e.data["text"] for e in handoff_events] == [say("handoff.now_with_team", "es")]
    ticket_id = (await agent.view(cid)).ticket_id
    assert any(note.startswith("Handed over by the AI assistant.") for note in agent.notes(ticket_id))

    await agent.human(ticket_id, "handback")

    view = await agent.view(cid)
    assert view.status == "active"
    assert view.messages[-1].text == "Vuelves a hablar con el asistente. ¿Puedo ayudarte en algo más?"


async def test_a_failing_model_apologises_in_the_shoppers_language(agent: Agent) -> None:
    agent.script(RuntimeError("upstream 502"))
    cid = await agent.start()

    turn = await agent.say(cid, "Bonjour, où est ma commande ? Je l'attends depuis une semaine.")

    said = turn.said()
    assert said[0] == say("handoff.apology", "fr")
    assert said[1] == say("handoff.handed_over", "fr")


async def test_the_teams_approval_outcome_is_told_in_the_shoppers_language(agent: Agent) -> None:
    agent.script(
        intent("refunds", order_number="1005"),
        verify("1005"),
        call("issue_refund", order_number="1005", line_item_ids=None, reason="llegó dañado"),
        "Un reembolso de este importe necesita la aprobación del equipo.",
    )
    cid = await agent.start()
    asked = await agent.say(cid, f"Hola, quiero un reembolso del pedido 1005, {EMAILS['1005']}")
    assert "Los reembolsos de este importe los aprueba antes una persona." in asked.messages[-1].text
    assert (await agent.say(cid, "sí")).status == "awaiting_approval"
    waiting = await agent.say(cid, "¿Hay novedades?")
    assert waiting.said() == [say("approval.pending", "es")]
    ticket_id = (await agent.view(cid)).ticket_id

    await agent.human(ticket_id, "deny")

    view = await agent.view(cid)
    assert view.messages[-1].text == say("approval.declined", "es", order="1005")
    assert agent.world.stripe.refunds == {}


def test_every_tools_progress_notice_is_translated() -> None:
    from tools.registry import specs

    for language in translations("fixed"):
        translated = variants("fixed", "progress", language)
        assert set(translated) == {s.name for s in specs()}, language
        for spec in specs():
            assert translated[spec.name][0] != spec.progress, (language, spec.name)


async def test_a_spanish_shopper_sees_what_is_being_looked_up_in_spanish(agent: Agent) -> None:
    agent.script(
        intent("wismo", order_number="1001", language="es"),
        verify("1001"),
        call("get_tracking_status", order_number="1001"),
        "Tu pedido #1001 está en camino con UPS.",
    )
    cid = await agent.start()

    turn = await agent.say(cid, f"Hola, ¿dónde está mi pedido 1001? {EMAILS['1001']}")

    progress = [(e.data["tool"], e.data["text"]) for e in turn.events if e.type == "progress"]
    assert progress == [
        ("verify_customer", "Comprobando tus datos…"),
        ("get_tracking_status", "Consultando el seguimiento del transportista…"),
    ]
    # Each notice comes before the reply's first piece.
    kinds = [e.type for e in turn.events if e.type in ("progress", "delta")]
    assert kinds.index("delta") > kinds.index("progress") + 1
