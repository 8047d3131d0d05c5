"""The intent classifier: behaviour on everyday messages, determinism, caching and the targets."""

from __future__ import annotations

import csv
import json
import math
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agent.offline.nlu import classifier as classifier_module
from agent.offline.nlu.bitext import BITEXT_TO_INTENT, load_bitext, map_bitext_intent
from agent.offline.nlu.classifier import (
    IntentClassifier,
    IntentPrediction,
    cache_file,
    clear_memory_cache,
    load_classifier,
    normalise_text,
    training_examples,
)
from agent.offline.nlu.evaluate import (
    TARGET_F1,
    TARGET_INTENTS,
    ClassMetrics,
    IntentReport,
    evaluate_intents,
    render_report,
    score_predictions,
)
from agent.offline.nlu.intents import INTENTS, Intent, load_own_utterances, split_own_utterances

# Realistic messages written for this test only: none of them is in the training files
# (test_everyday_phrases_are_not_training_data checks that).
EVERYDAY_PHRASES: list[tuple[str, Intent]] = [
    ("hey, any idea when my hoodie will show up?", "wismo"),
    ("The tracking page hasn't changed since Tuesday, is my parcel lost?", "wismo"),
    ("it says delivered but there's no box on my porch", "wismo"),
    ("where's order #1042", "wismo"),
    ("I've been waiting 12 days for my package, this is getting silly", "wismo"),
    ("has order 1077 been posted yet?", "wismo"),
    ("my sneakers don't fit, how can I send them back?", "returns"),
    ("could I swap the large for a small?", "returns"),
    ("I need a prepaid label to return the kettle", "returns"),
    ("the vase came cracked and I'd like to send it back", "returns"),
    ("what's the process to return something I bought last week", "returns"),
    ("i was billed twice for the same order!!", "refunds"),
    ("I sent the coat back ten days ago, when do I see my money?", "refunds"),
    ("please give me a refund for order 1044", "refunds"),
    ("the refund still isn't on my visa", "refunds"),
    ("I'd like my money returned to my card", "refunds"),
    ("please cancel order #1050, I bought it by accident", "order_change"),
    ("I typed the wrong street on my order, can you fix it before it ships?", "order_change"),
    ("can you send it to my office address instead of home?", "order_change"),
    ("I want to cancel what I ordered yesterday", "order_change"),
    ("can I swap the delivery address on my order to my sister's place", "order_change"),
    ("I want to speak with an actual person please", "escalation"),
    ("this is a waste of time, get me your manager", "escalation"),
    ("if this isn't sorted today I'm calling my bank for a chargeback", "escalation"),
    ("can a member of staff take over this chat?", "escalation"),
    ("hiya, hope your week is going well", "other"),
    ("thanks so much, have a lovely evening", "other"),
    ("do you sell matching pillowcases?", "other"),
    ("what are your opening hours on saturday?", "store_help"),
    ("how do I reset the password on my account?", "other"),
    ("tell me a fun fact", "other"),
    ("is the cashmere scarf soft?", "other"),
]


# Misspelt versions of the key words, written for this test only (not in the training files).
TYPO_PHRASES: list[tuple[str, Intent]] = [
    ("i wanna retrun the beanie from ordr 1002 ben.okafor@example.com", "returns"),
    ("how do i retrn the lamp, its the wrong colour", "returns"),
    ("can i excahnge the boots for a 10", "returns"),
    ("wheres my pakage?? ordr 1001 emial ana.silva@example.com", "wismo"),
    ("my parcle still hasnt arived, oder #1044", "wismo"),
    ("whats the trackng for ordr 1077", "wismo"),
    ("i want a refnd for ordr 1009", "refunds"),
    ("still no refudn on my card for the retruned shoes", "refunds"),
    ("cancle my oder 1050 pls", "order_change"),
    ("the adress on ordr 1004 is wrong, i moved", "order_change"),
    ("let me speek to a humen plz", "escalation"),
    ("get me a real peson, i want a supervsior", "escalation"),
]


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def test_everyday_phrases_are_not_training_data() -> None:
    known = {_key(example.text) for example in load_own_utterances()}
    leaked = [text for text, _ in EVERYDAY_PHRASES + TYPO_PHRASES if _key(text) in known]
    assert leaked == []


@pytest.mark.parametrize(("text", "expected"), EVERYDAY_PHRASES)
def test_everyday_phrases(classifier: IntentClassifier, text: str, expected: Intent) -> None:
    assert classifier.predict(text).intent == expected


@pytest.mark.parametrize(("text", "expected"), TYPO_PHRASES)
def test_misspelt_key_words(classifier: IntentClassifier, text: str, expected: Intent) -> None:
    assert classifier.predict(text).intent == expected


def test_angry_but_solvable_late_parcel_is_wismo_not_escalation(classifier: IntentClassifier) -> None:
    prediction = classifier.predict("this is RIDICULOUS, my parcel is two weeks late, where the hell is it")
    assert prediction.intent == "wismo"


def test_prediction_is_a_probability_distribution(classifier: IntentClassifier) -> None:
    prediction = classifier.predict("where is my order #1001?")
    assert set(prediction.probabilities) == set(INTENTS)
    assert math.isclose(sum(prediction.probabilities.values()), 1.0, abs_tol=1e-6)
    assert all(0.0 <= p <= 1.0 for p in prediction.probabilities.values())
    assert prediction.confidence == max(prediction.probabilities.values())
    assert prediction.probabilities[prediction.intent] == prediction.confidence


def test_predict_many_matches_predict(classifier: IntentClassifier) -> None:
    texts = ["refund please", "get me a human", "", "   "]
    assert classifier.predict_many(texts) == [classifier.predict(t) for t in texts]
    assert classifier.predict_many([]) == []


def test_the_direct_scorer_gives_the_pipelines_probabilities(classifier: IntentClassifier) -> None:
    # predict_many skips scikit-learn's per-call machinery; the figures must be the pipeline's own,
    # on every own utterance and on messages with no known n-gram at all (to the last bits: the sums
    # run in another order).
    assert classifier_module._SparseScorer.of(classifier.pipeline) is not None  # the direct path is taken
    texts = [u.text for u in load_own_utterances()] + ["", "   ", "zzqx vvkw"]
    direct = classifier.predict_many(texts)
    reference = classifier.pipeline.predict_proba([normalise_text(t) for t in texts])
    assert len(direct) == len(texts)
    for prediction, row in zip(direct, reference, strict=True):
        expected = dict(zip(classifier.pipeline.classes_, row, strict=True))
        for intent, p in prediction.probabilities.items():
            assert math.isclose(p, expected[intent], rel_tol=1e-9, abs_tol=1e-12)
        assert prediction.intent == max(INTENTS, key=lambda i: expected[i])


def test_normalise_text_replaces_volatile_tokens() -> None:
    assert normalise_text("  Where IS   order #1001?  ") == "where is order ordertoken ?"
    assert normalise_text("email jane@example.com") == "email emailtoken"
    assert normalise_text("refund $45.50 or 30 euros") == "refund moneytoken or moneytoken"
    assert normalise_text("order 113542617735902, 2 items") == "order numtoken , smallnum items"
    assert normalise_text("it\u2019s late") == "it's late"


def test_normalise_text_corrects_misspelt_key_words() -> None:
    assert normalise_text("i wanna retrun the beanie from ordr 1002") == (
        "i wanna return the beanie from order numtoken"
    )
    # Emails are replaced before correcting, so a name that looks like a typo is never touched.
    assert normalise_text("wheres my pakage, retrun@example.com") == "wheres my package, emailtoken"


# --------------------------------------------------------------------------------------------
# Training data hygiene
# --------------------------------------------------------------------------------------------


def test_own_utterance_files_are_large_and_clean() -> None:
    examples = load_own_utterances()
    for intent in INTENTS:
        texts = [ex.text for ex in examples if ex.intent == intent]
        assert len(texts) >= 250, intent
        assert len({t.lower() for t in texts}) == len(texts), f"duplicates in {intent}.txt"
    all_texts = [ex.text.lower() for ex in examples]
    assert len(set(all_texts)) == len(all_texts), "the same line appears under two intents"


def test_split_is_deterministic_and_disjoint() -> None:
    examples = load_own_utterances()
    train, held_out = split_own_utterances(examples)
    assert split_own_utterances(examples) == (train, held_out)
    assert {ex.text for ex in train}.isdisjoint({ex.text for ex in held_out})
    assert 0.15 < len(held_out) / len(examples) < 0.25


def test_training_uses_neither_dev_nor_held_out(offline_fixtures_dir: Path) -> None:
    examples, weights = training_examples(offline_fixtures_dir)
    _, held_out = split_own_utterances(load_own_utterances())
    own_train, _ = split_own_utterances(load_own_utterances())
    bitext_train = load_bitext(offline_fixtures_dir, "train")
    assert len(examples) == len(weights) == len(own_train) + len(bitext_train)
    assert {ex.text for ex in held_out}.isdisjoint({ex.text for ex in examples})
    # Bitext train and dev share a handful of identical template sentences; what matters is that
    # every training row comes from train.csv or the own train split, never from dev.csv.
    allowed = {ex.text for ex in own_train} | {ex.text for ex in bitext_train}
    assert {ex.text for ex in examples} <= allowed


def test_training_without_fixtures_uses_own_utterances_only(tmp_path: Path) -> None:
    examples, _ = training_examples(tmp_path / "absent")
    own_train, _ = split_own_utterances(load_own_utterances())
    assert examples == own_train


def test_bitext_mapping_covers_every_label_in_the_data(offline_fixtures_dir: Path) -> None:
    with (offline_fixtures_dir / "bitext" / "train.csv").open(encoding="utf-8", newline="") as handle:
        labels = {row["intent"] for row in csv.DictReader(handle)}
    assert labels == set(BITEXT_TO_INTENT)
    assert len(labels) == 27
    assert all(map_bitext_intent(label) in (*INTENTS, None) for label in labels)
    with pytest.raises(ValueError, match="unmapped Bitext intent"):
        map_bitext_intent("return_item")


def test_bitext_has_no_returns_and_maps_key_intents(offline_fixtures_dir: Path) -> None:
    dev = load_bitext(offline_fixtures_dir, "dev")
    assert {ex.intent for ex in dev} == set(INTENTS) - {"returns"}
    assert map_bitext_intent("track_order") == "wismo"
    assert map_bitext_intent("track_refund") == "refunds"
    assert map_bitext_intent("contact_human_agent") == "escalation"
    assert map_bitext_intent("payment_issue") is None


# --------------------------------------------------------------------------------------------
# Determinism and caching (trained on own utterances only, to keep these tests quick)
# --------------------------------------------------------------------------------------------

PROBES = ["where is my stuff", "refund me", "cancel it", "i want a human", "hello", "send it back"]


@pytest.mark.slow
def test_retraining_gives_identical_predictions(
    offline_fixtures_dir: Path, classifier: IntentClassifier
) -> None:
    examples, weights = training_examples(offline_fixtures_dir)
    again = IntentClassifier.train(examples, weights)
    assert again.training_digest == classifier.training_digest
    assert again.predict_many(PROBES) == classifier.predict_many(PROBES)


_TRAIN_IN_SUBPROCESS = """
import json, sys
from agent.offline.nlu.classifier import IntentClassifier, training_examples
model = IntentClassifier.train(*training_examples(None))
print(json.dumps([p.model_dump() for p in model.predict_many(json.loads(sys.argv[1]))]))
"""


@pytest.mark.slow
def test_training_is_deterministic_across_processes(own_only_classifier: IntentClassifier) -> None:
    # A different hash seed reorders sets and dicts of strings: the model must not depend on it.
    repo_root = Path(__file__).resolve().parents[3]
    result = subprocess.run(  # noqa: S603 - our own interpreter and script, no outside input
        [sys.executable, "-c", _TRAIN_IN_SUBPROCESS, json.dumps(PROBES)],
        cwd=repo_root,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    other = [IntentPrediction.model_validate(p) for p in json.loads(result.stdout)]
    assert other == own_only_classifier.predict_many(PROBES)


@pytest.fixture
def isolated_memory_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """A private per-process cache, so clearing it never costs other tests a retraining."""
    monkeypatch.setattr(classifier_module, "_loaded", {})


def test_load_classifier_is_memoised_per_process(
    offline_fixtures_dir: Path, classifier: IntentClassifier
) -> None:
    assert load_classifier(offline_fixtures_dir, cache_dir=None) is classifier
    assert load_classifier(offline_fixtures_dir.parent / "fixtures", cache_dir=None) is classifier


@pytest.fixture(scope="module")
def own_only_classifier() -> IntentClassifier:
    """What ``load_classifier(None, ...)`` trains: own utterances only, the quickest real model."""
    return IntentClassifier.train(*training_examples(None))


class TrainingSpy:
    """Stands in for ``IntentClassifier.train``: counts calls and returns a ready model."""

    def __init__(self, model: IntentClassifier) -> None:
        self.model = model
        self.calls = 0

    def __call__(self, *args: object, **kwargs: object) -> IntentClassifier:
        self.calls += 1
        return self.model


@pytest.fixture
def training_spy(
    monkeypatch: pytest.MonkeyPatch, own_only_classifier: IntentClassifier, isolated_memory_cache: None
) -> TrainingSpy:
    spy = TrainingSpy(own_only_classifier)
    monkeypatch.setattr(classifier_module.IntentClassifier, "train", spy)
    return spy


def test_disk_cache_round_trip(tmp_path: Path, training_spy: TrainingSpy) -> None:
    trained = load_classifier(None, tmp_path)
    assert training_spy.calls == 1
    assert list(tmp_path.glob("intent-classifier-*.pkl")) == [cache_file(tmp_path, trained.training_digest)]

    clear_memory_cache()
    loaded = load_classifier(None, tmp_path)
    assert training_spy.calls == 1, "retrained although a valid cache existed"
    assert loaded is not trained
    assert loaded.training_digest == trained.training_digest
    assert loaded.predict_many(PROBES) == trained.predict_many(PROBES)
    assert load_classifier(None, tmp_path) is loaded  # and memoised again


@pytest.mark.parametrize(
    "content",
    [b"not a pickle", pickle.dumps({"digest": "something else", "pipeline": None}), pickle.dumps([1, 2])],
    ids=["garbage", "stale-digest", "wrong-type"],
)
def test_corrupt_or_stale_cache_is_retrained_and_replaced(
    tmp_path: Path, content: bytes, training_spy: TrainingSpy
) -> None:
    examples, weights = training_examples(None)
    digest = classifier_module.training_digest(examples, weights)
    path = cache_file(tmp_path, digest)
    path.write_bytes(content)

    fresh = load_classifier(None, tmp_path)
    assert training_spy.calls == 1
    assert fresh.training_digest == digest
    payload = pickle.loads(path.read_bytes())  # noqa: S301 - a file this test just had written
    assert payload["digest"] == digest
    assert payload["pipeline"] is not None


def test_cache_key_changes_with_the_training_data() -> None:
    examples, weights = training_examples(None)
    digest = classifier_module.training_digest(examples, weights)
    assert classifier_module.training_digest(examples[:-1], weights[:-1]) != digest
    assert classifier_module.training_digest(examples, [w * 2 for w in weights]) != digest


def test_unwritable_cache_dir_still_gives_a_classifier(tmp_path: Path, training_spy: TrainingSpy) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert load_classifier(None, blocker / "cache").predict("refund please").intent == "refunds"
    assert training_spy.calls == 1


def test_own_utterances_alone_give_a_usable_model(own_only_classifier: IntentClassifier) -> None:
    # The product must work even where the shared fixtures are not installed.
    predictions = own_only_classifier.predict_many(PROBES)
    assert [p.intent for p in predictions] == [
        "wismo",
        "refunds",
        "order_change",
        "escalation",
        "other",
        "returns",
    ]


# --------------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------------


def test_targets_on_bitext_dev_and_held_out(offline_fixtures_dir: Path, classifier: IntentClassifier) -> None:
    report = evaluate_intents(offline_fixtures_dir, classifier=classifier)
    text = render_report(report)
    print(text)  # shown with `pytest -s`, and in the failure output
    assert report.targets_met, text
    for evaluation in report.sets:
        for intent in TARGET_INTENTS:
            assert evaluation.f1(intent) >= TARGET_F1, text
        assert evaluation.macro_f1 >= 0.93, text
    assert "returns" not in report.bitext_dev.per_class
    assert report.held_out.size > 400
    assert report.bitext_dev.size > 700


def test_score_predictions_and_render_report() -> None:
    report = score_predictions(
        "toy",
        ["wismo", "wismo", "refunds", "other"],
        ["wismo", "refunds", "refunds", "other"],
    )
    assert report.accuracy == 0.75
    assert set(report.per_class) == {"wismo", "refunds", "other"}  # only intents with support
    assert report.per_class["wismo"] == ClassMetrics(precision=1.0, recall=0.5, f1=2 / 3, support=2)
    assert report.per_class["refunds"].precision == 0.5
    assert math.isclose(report.macro_f1, (2 / 3 + 2 / 3 + 1.0) / 3)
    full = IntentReport(bitext_dev=report, held_out=report, load_seconds=0.0)
    assert not full.targets_met
    rendered = render_report(full)
    assert "accuracy 0.750" in rendered
    assert "MISSED" in rendered
    assert "escalation F1 0.000" in rendered
