"""How well the intent classifier does, on data it was never trained on.

Two evaluation sets:

* ``bitext-dev``: Bitext ``dev.csv`` mapped with ``agent.offline.nlu.bitext`` (no ``returns`` rows,
  since Bitext has no such intent);
* ``own-held-out``: the ~20% of the project's own utterances that the hash split holds out.

A third set, ``general-questions`` (``data/general_questions.txt``, 212 general-knowledge questions
written for this and never trained on: news, phone settings, trivia, recipes ...), measures how
many stay out of scope (``other``), before and after the out-of-scope gate
(``agent.offline.nlu.scope``), and the held-out split says what the gate costs in-scope messages.

Macro-F1 averages over the intents that occur in a set's gold labels, so Bitext's missing
``returns`` class does not count as a zero; a wrong ``returns`` prediction still costs recall
of the true class. Targets: ``wismo``, ``refunds`` and ``escalation`` each reach
``TARGET_F1`` on both sets.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from agent.offline.nlu.bitext import bitext_path, load_bitext
from agent.offline.nlu.classifier import IntentClassifier, load_classifier
from agent.offline.nlu.intents import (
    INTENTS,
    Intent,
    LabelledUtterance,
    load_own_utterances,
    split_own_utterances,
)
from agent.offline.nlu.scope import within_scope

TARGET_F1: Final[float] = 0.95
TARGET_INTENTS: Final[tuple[Intent, ...]] = ("wismo", "refunds", "escalation")


@dataclass(frozen=True, slots=True)
class ClassMetrics:
    """Precision, recall and F1 of one intent, with its number of gold examples."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Misclassification:
    """One error, kept so a report can show what goes wrong, not only how often."""

    text: str
    expected: Intent
    predicted: Intent
    confidence: float


@dataclass(frozen=True, slots=True)
class SetReport:
    """Scores of the classifier on one evaluation set."""

    name: str
    size: int
    accuracy: float
    macro_f1: float
    per_class: dict[Intent, ClassMetrics]
    errors: tuple[Misclassification, ...]

    def f1(self, intent: Intent) -> float:
        """F1 of one intent (0.0 when the set has no example of it)."""
        metrics = self.per_class.get(intent)
        return metrics.f1 if metrics is not None else 0.0


GENERAL_QUESTIONS: Final[Path] = Path(__file__).resolve().parent / "data" / "general_questions.txt"


@dataclass(frozen=True, slots=True)
class ScopeReport:
    """General questions kept out of scope, and in-scope messages the gate turns away."""

    size: int
    kept_out_raw: int
    """General questions the classifier alone calls ``other``."""
    kept_out: int
    """... with the out-of-scope gate, as the offline model runs."""
    routed: dict[str, int]
    """Where the rest go (with the gate)."""
    in_scope: int
    in_scope_turned_away: int
    """Held-out store requests the classifier got right and the gate sent to ``other``."""

    @property
    def precision(self) -> float:
        """Share of general questions that stay out of scope (with the gate)."""
        return _ratio(self.kept_out, self.size)


@dataclass(frozen=True, slots=True)
class IntentReport:
    """Both evaluation sets plus the time it took to obtain the classifier."""

    bitext_dev: SetReport
    held_out: SetReport
    load_seconds: float
    scope: ScopeReport | None = None

    @property
    def sets(self) -> tuple[SetReport, SetReport]:
        """The evaluation sets, in display order."""
        return (self.bitext_dev, self.held_out)

    def target_failures(self) -> list[str]:
        """Human-readable list of missed targets; empty when every target is met."""
        return [
            f"{s.name}: {intent} F1 {s.f1(intent):.3f} < {TARGET_F1:.2f}"
            for s in self.sets
            for intent in TARGET_INTENTS
            if s.f1(intent) < TARGET_F1
        ]

    @property
    def targets_met(self) -> bool:
        """Whether every target intent reaches ``TARGET_F1`` on every set."""
        return not self.target_failures()


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def score_predictions(name: str, gold: Sequence[Intent], predicted: Sequence[Intent]) -> SetReport:
    """Accuracy, macro-F1 and per-class metrics for paired gold / predicted labels."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted labels must have the same length")
    per_class: dict[Intent, ClassMetrics] = {}
    for intent in INTENTS:
        true_pos = sum(1 for g, p in zip(gold, predicted, strict=True) if g == intent and p == intent)
        n_predicted = sum(1 for p in predicted if p == intent)
        support = sum(1 for g in gold if g == intent)
        if support == 0:
            continue
        precision = _ratio(true_pos, n_predicted)
        recall = _ratio(true_pos, support)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[intent] = ClassMetrics(precision=precision, recall=recall, f1=f1, support=support)
    correct = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p)
    macro = sum(m.f1 for m in per_class.values()) / len(per_class) if per_class else 0.0
    return SetReport(
        name=name,
        size=len(gold),
        accuracy=_ratio(correct, len(gold)),
        macro_f1=macro,
        per_class=per_class,
        errors=(),
    )


def score_classifier(
    name: str, classifier: IntentClassifier, examples: Sequence[LabelledUtterance]
) -> SetReport:
    """Run the classifier over ``examples`` and score it, keeping the misclassified examples."""
    predictions = classifier.predict_many([ex.text for ex in examples])
    report = score_predictions(name, [ex.intent for ex in examples], [p.intent for p in predictions])
    errors = tuple(
        Misclassification(text=ex.text, expected=ex.intent, predicted=p.intent, confidence=p.confidence)
        for ex, p in zip(examples, predictions, strict=True)
        if ex.intent != p.intent
    )
    return SetReport(
        name=report.name,
        size=report.size,
        accuracy=report.accuracy,
        macro_f1=report.macro_f1,
        per_class=report.per_class,
        errors=errors,
    )


def evaluate_intents(
    fixtures_dir: Path,
    cache_dir: Path | None = None,
    *,
    classifier: IntentClassifier | None = None,
) -> IntentReport:
    """Score the classifier on both evaluation sets.

    By default the production classifier is trained (or loaded from ``cache_dir``) with Bitext
    train from ``fixtures_dir``; pass ``classifier`` to evaluate another one. ``fixtures_dir``
    must contain ``bitext/dev.csv``: an evaluation without it would silently report only half
    the story, so its absence raises ``FileNotFoundError``.
    """
    dev_path = bitext_path(fixtures_dir, "dev")
    if not dev_path.is_file():
        raise FileNotFoundError(f"Bitext dev set not found at {dev_path}")
    started = time.perf_counter()
    if classifier is None:
        classifier = load_classifier(fixtures_dir, cache_dir)
    load_seconds = time.perf_counter() - started
    _, held_out = split_own_utterances(load_own_utterances())
    return IntentReport(
        bitext_dev=score_classifier("bitext-dev", classifier, load_bitext(fixtures_dir, "dev")),
        held_out=score_classifier("own-held-out", classifier, held_out),
        load_seconds=load_seconds,
        scope=score_scope(classifier, held_out),
    )


def score_scope(classifier: IntentClassifier, held_out: Sequence[LabelledUtterance]) -> ScopeReport:
    """How well general questions stay out of scope, and what that costs in-scope messages."""
    questions = [
        line.strip() for line in GENERAL_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    raw = classifier.predict_many(questions)
    gated = within_scope(questions, raw)
    routed: dict[str, int] = {}
    for prediction in gated:
        if prediction.intent != "other":
            routed[prediction.intent] = routed.get(prediction.intent, 0) + 1
    in_scope = [ex for ex in held_out if ex.intent != "other"]
    texts = [ex.text for ex in in_scope]
    before = classifier.predict_many(texts)
    after = within_scope(texts, before)
    turned_away = sum(
        1
        for ex, b, a in zip(in_scope, before, after, strict=True)
        if b.intent == ex.intent and a.intent == "other"
    )
    return ScopeReport(
        size=len(questions),
        kept_out_raw=sum(1 for p in raw if p.intent == "other"),
        kept_out=sum(1 for p in gated if p.intent == "other"),
        routed=dict(sorted(routed.items())),
        in_scope=len(in_scope),
        in_scope_turned_away=turned_away,
    )


def render_report(report: IntentReport, max_errors: int = 0) -> str:
    """A plain-text table of the report, optionally followed by some misclassified examples."""
    lines: list[str] = []
    for s in report.sets:
        lines.append(f"{s.name}  ({s.size} examples)  accuracy {s.accuracy:.3f}  macro-F1 {s.macro_f1:.3f}")
        lines.append(f"  {'intent':<14}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>10}")
        for intent, m in s.per_class.items():
            flag = "  < target" if intent in TARGET_INTENTS and m.f1 < TARGET_F1 else ""
            lines.append(
                f"  {intent:<14}{m.precision:>10.3f}{m.recall:>10.3f}{m.f1:>10.3f}{m.support:>10d}{flag}"
            )
        for error in s.errors[:max_errors]:
            lines.append(
                f"    ✗ {error.expected} → {error.predicted} ({error.confidence:.2f}): {error.text!r}"
            )
        lines.append("")
    failures = report.target_failures()
    verdict = "all met" if not failures else "MISSED: " + "; ".join(failures)
    targets = ", ".join(TARGET_INTENTS)
    lines.append(f"targets ({targets} F1 >= {TARGET_F1:.2f} on both sets): {verdict}")
    scope = report.scope
    if scope is not None:
        routed = ", ".join(f"{intent} {n}" for intent, n in scope.routed.items()) or "none"
        lines.append(
            f"general-questions  ({scope.size}, never trained on): kept out of scope "
            f"{scope.kept_out}/{scope.size} = {scope.precision:.3f} "
            f"(classifier alone {scope.kept_out_raw}/{scope.size}); the rest went to: {routed}"
        )
        lines.append(
            f"  out-of-scope gate: {scope.in_scope_turned_away} of {scope.in_scope} held-out store requests "
            "turned away"
        )
    lines.append(f"classifier ready in {report.load_seconds:.1f} s")
    return "\n".join(lines)
