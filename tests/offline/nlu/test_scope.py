"""The out-of-scope gate: general questions stay out of scope, store requests are not turned away."""

from __future__ import annotations

import pytest

from agent.offline.nlu.classifier import IntentClassifier, IntentPrediction
from agent.offline.nlu.evaluate import GENERAL_QUESTIONS, score_scope
from agent.offline.nlu.intents import load_own_utterances, split_own_utterances
from agent.offline.nlu.scope import SURE, names_the_store, out_of_scope, within_scope


def test_general_questions_stay_out_of_scope_without_costing_store_requests(
    classifier: IntentClassifier,
) -> None:
    _, held_out = split_own_utterances(load_own_utterances())
    report = score_scope(classifier, held_out)
    assert report.size >= 200
    assert report.precision >= 0.93, report
    assert report.kept_out > report.kept_out_raw
    assert report.in_scope_turned_away <= report.in_scope // 100, report


def test_the_general_questions_are_never_trained_on() -> None:
    questions = {
        q.strip().lower() for q in GENERAL_QUESTIONS.read_text(encoding="utf-8").splitlines() if q.strip()
    }
    trained = {ex.text.lower() for ex in load_own_utterances()}
    assert questions.isdisjoint(trained)


@pytest.mark.parametrize(
    ("text", "store"),
    [
        ("when did the titanic sink", False),
        ("will it rain in seattle tomorrow", False),
        ("where is my parcel", True),
        ("i want my money back", True),
        ("when does #1002 arrive", True),  # an order number is the store's
        ("it hasn't come", True),
    ],
)
def test_store_words(text: str, store: bool) -> None:
    assert names_the_store(text) is store


def test_only_unsure_store_guesses_without_store_words_are_turned_away() -> None:
    assert out_of_scope("when did the titanic sink", "wismo", SURE - 0.01)
    assert not out_of_scope("when did the titanic sink", "wismo", SURE)
    assert not out_of_scope("where's my parcel", "wismo", 0.45)
    assert not out_of_scope("get me a person", "escalation", 0.3)
    guess = IntentPrediction(intent="wismo", confidence=0.6, probabilities={"wismo": 0.6, "other": 0.4})
    [turned] = within_scope(["when did the titanic sink"], [guess])
    assert (turned.intent, turned.confidence) == ("other", 0.4)
    assert within_scope(["where's my parcel"], [guess]) == [guess]
