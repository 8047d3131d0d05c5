"""search_store_help and the store's help content (tools/help_content.py) against the demo set."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from agent.deps import knowledge_base
from agent.settings import Settings
from tests.tools.conftest import Harness
from tools.help_content import KnowledgeBase, read_passages, terms
from tools.policy import StorePolicy
from tools.store_help import StoreHelp, search_store_help

DEMO = Path(__file__).resolve().parents[2] / "prompts" / "knowledge"


@pytest.fixture(scope="module")
def demo() -> KnowledgeBase:
    return KnowledgeBase.from_folder(DEMO, StorePolicy(), "Harbor & Pine")


@pytest.mark.parametrize(
    ("question", "source"),
    [
        ("what does final sale mean?", "Final sale › What does final sale mean?"),
        (
            "how many days do I have to send something back",
            "Returns and exchanges › How long do I have to return something?",
        ),
        ("do gift cards expire", "Gift cards › How do gift cards work?"),
        ("do you ship to canada?", "Shipping and delivery › Do you ship internationally?"),
        ("which carriers do you use", "Shipping and delivery › Which carriers do you use?"),
        ("how do I reach customer service", "Contact us › How can I reach a person?"),
        (
            "can I swap for a bigger size",
            "Returns and exchanges › Can I exchange an item for another size or colour?",
        ),
        ("where do I enter a discount code", "Payment › Discount codes"),
    ],
)
def test_store_questions_find_their_passage(demo: KnowledgeBase, question: str, source: str) -> None:
    hits = demo.search(question)
    assert hits, question
    assert hits[0].passage.source == source


@pytest.mark.parametrize(
    "question",
    [
        "what's the capital of france?",
        "how do I turn on bluetooth on my iphone",
        "who won the world cup in 2018",
        "recipe for pancakes",
        "how do I reset my wifi router",
        "",
        "the of and",
    ],
)
def test_anything_else_finds_nothing(demo: KnowledgeBase, question: str) -> None:
    assert demo.search(question) == []


def test_the_policy_fills_the_rules_into_the_text(tmp_path: Path) -> None:
    (tmp_path / "returns.md").write_text(
        "# Returns\n\n## Window\nWithin $return_window_days days; over $refund_auto_approve_limit $currency a "
        "person checks; $$5 fee; $unknown stays.\n<!-- send back, returnable -->\n",
        encoding="utf-8",
    )
    (tmp_path / "shipping.md").write_text(
        "# Shipping\n\n## Cost\nA flat rate.\n\n## Carriers\nUPS and USPS.\n\n## Time\nA week.\n",
        encoding="utf-8",
    )
    (tmp_path / "README.md").write_text("# For editors\n\nnot searched\n", encoding="utf-8")
    policy = StorePolicy(return_window_days=14, refund_auto_approve_limit=Decimal("250"))
    passage, *_ = read_passages(
        tmp_path, {"return_window_days": "14", "refund_auto_approve_limit": "250.00", "currency": "USD"}
    )
    assert passage.text == "Within 14 days; over 250.00 USD a person checks; $5 fee; $unknown stays."
    assert passage.keywords == "send back, returnable"  # searched, never shown
    assert passage.source == "Returns › Window"
    base = KnowledgeBase.from_folder(tmp_path, policy, "Shop")
    assert [h.passage.heading for h in base.search("is it returnable?")] == ["Window"]
    assert "14 days" in base.passages[0].text
    assert len(base.passages) == 4


def test_the_demo_set_agrees_with_the_default_policy(demo: KnowledgeBase) -> None:
    text = " ".join(p.text for p in demo.passages)
    assert "within 30 days after they were delivered" in text
    assert "above 100.00 USD is checked by a person" in text
    assert '"final-sale"' in text
    assert "$" + "return_window_days" not in text


def test_a_missing_folder_answers_nothing(tmp_path: Path) -> None:
    base = KnowledgeBase.from_folder(tmp_path / "nope", StorePolicy(), "Shop")
    assert base.passages == []
    assert base.search("what does final sale mean?") == []


def test_the_setting_points_at_the_folder(tmp_path: Path) -> None:
    (tmp_path / "faq.md").write_text(
        "# FAQ\n\n## Pets\nDogs are welcome in our warehouse shop.\n\n## Parking\nThere is a car park.\n\n"
        "## Hours\nWe open at nine.\n",
        encoding="utf-8",
    )
    pages = knowledge_base(Settings(knowledge_dir=tmp_path, return_window_days=20))
    (tmp_path / "later.md").write_text("# Later\n\n## Added\nWritten after start-up.\n", encoding="utf-8")
    base = pages.knowledge_base()  # read on first use, not when the services are built
    assert "Added" in [p.heading for p in base.passages]
    assert pages.search("are dogs welcome?") == base.search("are dogs welcome?")
    assert [h.passage.source for h in base.search("are dogs welcome?")] == ["FAQ › Pets"]
    assert Settings().knowledge_dir == DEMO


def test_terms_fold_word_endings() -> None:
    assert terms("Shipping, shipped; candles and boxes? Returnable!") == [
        "ship",
        "ship",
        "candle",
        "box",
        "return",
    ]


async def test_the_tool_answers_with_its_source_and_changes_nothing(harness: Harness) -> None:
    before = harness.world.digest()
    result = await harness.call(search_store_help, harness.ctx(), question="is the return window 30 days?")
    assert isinstance(result, StoreHelp)
    assert result.found
    assert result.answers[0].source.startswith("Returns and exchanges")
    assert result.answers[0].file == "returns.md"
    assert "30 days" in result.answers[0].text
    assert harness.world.digest() == before


async def test_the_tool_says_when_it_does_not_know(harness: Harness) -> None:
    result = await harness.call(search_store_help, harness.ctx(), question="who painted the mona lisa")
    assert isinstance(result, StoreHelp)
    assert not result.found
    assert result.answers == []
