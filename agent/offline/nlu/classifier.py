"""The trained intent classifier of the offline model.

A scikit-learn pipeline: TF-IDF over word 1-2-grams and over character 2-5-grams (``char_wb``,
which copes with typos such as "pakage" or "refnd"), feeding a multinomial logistic regression,
whose calibrated-enough probabilities give a confidence the flows can threshold.

Training data: the project's own utterances (training part of the hash split, see
``agent.offline.nlu.intents``) plus the mapped Bitext ``train.csv`` when a fixtures directory holding
it is given. Bitext ``dev.csv`` and the own held-out split are only ever used by
``agent.offline.nlu.evaluate``.

Training is deterministic (fixed data order, ``lbfgs`` solver, fixed ``random_state``) and takes
a few seconds, so it happens at most once per process (module-level cache) and, when a cache
directory is given, once per machine: the fitted pipeline is pickled under a name derived from a
hash of the training data, the model version and the scikit-learn version. A missing, stale or
unreadable cache file simply means retraining.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import sklearn
from pydantic import BaseModel, ConfigDict, Field
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # scikit-learn's own dependency

from agent.offline.nlu.bitext import bitext_path, load_bitext
from agent.offline.nlu.intents import (
    INTENTS,
    Intent,
    LabelledUtterance,
    load_own_utterances,
    parse_intent,
    split_own_utterances,
)
from agent.offline.nlu.typos import correct_typos

logger = logging.getLogger(__name__)

# Bump when the features, the model or normalise_text change: it is part of the cache key.
MODEL_VERSION: Final[str] = "intent-tfidf-lr-2"

# Own utterances are everyday chat-widget phrasing, Bitext is templated; weighting ours higher
# keeps the model anchored on how shoppers actually write while Bitext adds breadth.
OWN_SAMPLE_WEIGHT: Final[float] = 3.0
BITEXT_SAMPLE_WEIGHT: Final[float] = 1.0

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MONEY = re.compile(
    r"[$€£]\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s?(?:dollars?|bucks|usd|euros?|eur|pounds|gbp)\b"
)
_HASH_NUMBER = re.compile(r"#\s?\d+")
_LONG_NUMBER = re.compile(r"\d{3,}")
_SHORT_NUMBER = re.compile(r"\d{1,2}")
_WHITESPACE = re.compile(r"\s+")
# Unlike scikit-learn's default, keep one-letter tokens: chat shorthand such as "u" carries meaning.
_WORD_PATTERN: Final[str] = r"(?u)\b\w+\b"


def normalise_text(text: str) -> str:
    """Canonical form used for both training and prediction.

    Lower-cases, unifies apostrophes and collapses whitespace. Emails, money amounts, ``#1234``
    references and other numbers become placeholder tokens: which order or amount it is does not
    change the intent, but *that* there is one does ("refund $45" leans to refunds, "#1001" to an
    order-specific request), and placeholders stop the model from memorising particular numbers.
    Misspelt key words are corrected ("retrun" -> "return", see ``agent.offline.nlu.typos``).
    """
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = _EMAIL.sub(" emailtoken ", text)
    text = correct_typos(text)
    text = _MONEY.sub(" moneytoken ", text)
    text = _HASH_NUMBER.sub(" ordertoken ", text)
    text = _LONG_NUMBER.sub(" numtoken ", text)
    text = _SHORT_NUMBER.sub(" smallnum ", text)
    return _WHITESPACE.sub(" ", text).strip()


class IntentPrediction(BaseModel):
    """The classifier's answer for one message."""

    model_config = ConfigDict(frozen=True)

    intent: Intent
    confidence: float = Field(ge=0.0, le=1.0, description="Probability of the predicted intent.")
    probabilities: dict[Intent, float] = Field(description="Probability of every intent; sums to 1.")


def build_pipeline() -> Pipeline:
    """An unfitted pipeline; its settings are covered by ``MODEL_VERSION``."""
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    token_pattern=_WORD_PATTERN,
                    sublinear_tf=True,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    min_df=2,
                    sublinear_tf=True,
                ),
            ),
        ]
    )
    model = LogisticRegression(
        C=10.0,
        # Bitext brings thousands of "other" rows; balancing stops that class from dominating.
        class_weight="balanced",
        max_iter=2000,
        solver="lbfgs",
        random_state=0,
    )
    return Pipeline([("features", features), ("model", model)])


class _SparseScorer:
    """Class probabilities for one message from the fitted vectorizers and model, without scikit-learn's
    per-call machinery.

    `Pipeline.predict_proba` on one short message costs ~2.6 ms of CPU here, nearly all of it generic
    work (FeatureUnion dispatch, input validation, sparse-matrix construction) rather than arithmetic:
    a message has a few hundred n-grams against a vocabulary of tens of thousands. This computes the
    same thing directly: each vectorizer's analyzer, term counts, sublinear tf times idf, L2 norm,
    then the logistic regression's softmax over only the columns present. The probabilities equal the
    pipeline's up to floating-point summation order (tests/offline/nlu/test_classifier.py checks).
    """

    def __init__(self, vectorizers: list[TfidfVectorizer], model: LogisticRegression) -> None:
        self._parts: list[tuple[Any, dict[str, int], np.ndarray[Any, Any], bool, int]] = []
        offset = 0
        for vectorizer in vectorizers:
            vocabulary: dict[str, int] = dict(vectorizer.vocabulary_)
            idf = np.asarray(vectorizer.idf_, dtype=np.float64)
            self._parts.append(
                (vectorizer.build_analyzer(), vocabulary, idf, bool(vectorizer.sublinear_tf), offset)
            )
            offset += len(vocabulary)
        # Rows are features: gathering the rows of the terms present is one contiguous read each.
        self._weights = np.ascontiguousarray(np.asarray(model.coef_, dtype=np.float64).T)
        self._intercept = np.asarray(model.intercept_, dtype=np.float64)

    @classmethod
    def of(cls, pipeline: Pipeline) -> _SparseScorer | None:
        """A scorer for a pipeline of the shape `build_pipeline` makes, else None (use the pipeline)."""
        steps = dict(pipeline.steps)
        features, model = steps.get("features"), steps.get("model")
        if (
            len(steps) != 2
            or not isinstance(features, FeatureUnion)
            or not isinstance(model, LogisticRegression)
        ):
            return None
        if features.transformer_weights is not None or len(model.classes_) <= 2:
            return None
        vectorizers = [t for _, t in features.transformer_list]
        if not vectorizers or not all(
            isinstance(v, TfidfVectorizer) and v.norm == "l2" and v.use_idf and not v.binary
            for v in vectorizers
        ):
            return None
        return cls(vectorizers, model)

    def probabilities(self, text: str) -> np.ndarray[Any, Any]:
        columns: list[np.ndarray[Any, Any]] = []
        values: list[np.ndarray[Any, Any]] = []
        for analyzer, vocabulary, idf, sublinear, offset in self._parts:
            counts: dict[int, int] = {}
            for term in analyzer(text):
                index = vocabulary.get(term)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            if not counts:
                continue
            indices = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            if sublinear:
                tf = np.log(tf) + 1.0
            weights = tf * idf[indices]
            norm = float(np.sqrt(weights @ weights))
            if norm > 0.0:
                weights /= norm
            columns.append(indices + offset)
            values.append(weights)
        scores = self._intercept.copy()
        if columns:
            scores += np.concatenate(values) @ self._weights[np.concatenate(columns)]
        scores -= scores.max()
        exp = np.exp(scores)
        result: np.ndarray[Any, Any] = exp / exp.sum()
        return result


class IntentClassifier:
    """A fitted intent classifier. Build one with ``train`` or ``load_classifier``."""

    def __init__(self, pipeline: Pipeline, training_digest: str) -> None:
        classes = [parse_intent(str(label)) for label in pipeline.classes_]
        if sorted(classes) != sorted(INTENTS):
            raise ValueError(f"pipeline classes {classes} do not match the intents {list(INTENTS)}")
        self._pipeline = pipeline
        self._classes: tuple[Intent, ...] = tuple(classes)
        self.training_digest = training_digest
        self._scorer = _SparseScorer.of(pipeline)

    @classmethod
    def train(
        cls, examples: Sequence[LabelledUtterance], weights: Sequence[float] | None = None
    ) -> IntentClassifier:
        """Fit a new pipeline on ``examples`` (optionally weighted per example)."""
        if weights is not None and len(weights) != len(examples):
            raise ValueError("weights must have one entry per example")
        pipeline = build_pipeline()
        texts = [normalise_text(ex.text) for ex in examples]
        labels = [ex.intent for ex in examples]
        fit_params: dict[str, Any] = {}
        if weights is not None:
            fit_params["model__sample_weight"] = list(weights)
        # One BLAS thread: the problem is small, and multi-threaded OpenBLAS busy-waits so badly on
        # a loaded 2-core machine that fitting took ~7 s instead of ~0.7 s.
        with threadpool_limits(limits=1, user_api="blas"):
            pipeline.fit(texts, labels, **fit_params)
        return cls(pipeline, training_digest(examples, weights))

    @property
    def pipeline(self) -> Pipeline:
        """The fitted scikit-learn pipeline (for inspection and persistence)."""
        return self._pipeline

    def predict(self, text: str) -> IntentPrediction:
        """Classify one message."""
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[IntentPrediction]:
        """Classify several messages in one vectorised call."""
        if not texts:
            return []
        normalised = [normalise_text(t) for t in texts]
        if self._scorer is not None:
            scorer = self._scorer
            matrix: Any = [scorer.probabilities(text) for text in normalised]
        else:
            matrix = self._pipeline.predict_proba(normalised)
        predictions: list[IntentPrediction] = []
        for row in matrix:
            probabilities: dict[Intent, float] = {
                intent: float(p) for intent, p in zip(self._classes, row, strict=True)
            }
            # Ties are broken by INTENTS order, so the answer never depends on dict ordering.
            best = max(INTENTS, key=lambda intent: probabilities[intent])
            predictions.append(
                IntentPrediction(
                    intent=best,
                    confidence=min(1.0, max(0.0, probabilities[best])),
                    probabilities={intent: probabilities[intent] for intent in INTENTS},
                )
            )
        return predictions


def training_examples(
    fixtures_dir: Path | None,
) -> tuple[list[LabelledUtterance], list[float]]:
    """The training set and per-example weights: own train split, plus Bitext train if present."""
    own_train, _ = split_own_utterances(load_own_utterances())
    examples = list(own_train)
    weights = [OWN_SAMPLE_WEIGHT] * len(own_train)
    if fixtures_dir is not None and bitext_path(fixtures_dir, "train").is_file():
        bitext_train = load_bitext(fixtures_dir, "train")
        examples.extend(bitext_train)
        weights.extend([BITEXT_SAMPLE_WEIGHT] * len(bitext_train))
    else:
        logger.info("Bitext train.csv not found under %s: training on own utterances only", fixtures_dir)
    return examples, weights


def training_digest(examples: Sequence[LabelledUtterance], weights: Sequence[float] | None = None) -> str:
    """Hash identifying a trained model: data, weights, model version and scikit-learn version."""
    digest = hashlib.sha256()
    digest.update(f"{MODEL_VERSION}\n{sklearn.__version__}\n".encode())
    for index, example in enumerate(examples):
        weight = 1.0 if weights is None else weights[index]
        digest.update(f"{example.intent}\t{weight!r}\t{example.text}\n".encode())
    return digest.hexdigest()


def cache_file(cache_dir: Path, digest: str) -> Path:
    """Where the pickled pipeline for a given training digest is stored."""
    return cache_dir / f"intent-classifier-{digest[:24]}.pkl"


def _read_cache(path: Path, digest: str) -> IntentClassifier | None:
    """Load a cached classifier, or ``None`` if it is absent, corrupt or for other data."""
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            # The cache directory is written only by this process's own user (see _write_cache),
            # never from shopper input, so unpickling it is as trusted as importing our code.
            payload = pickle.load(handle)  # noqa: S301
        if not isinstance(payload, dict) or payload.get("digest") != digest:
            logger.info("ignoring stale intent classifier cache %s", path)
            return None
        pipeline = payload["pipeline"]
        if not isinstance(pipeline, Pipeline):
            return None
        return IntentClassifier(pipeline, digest)
    except Exception:  # unpickling can fail in many ways; every one of them means "retrain"
        logger.warning("unreadable intent classifier cache %s: retraining", path, exc_info=True)
        return None


def _write_cache(path: Path, classifier: IntentClassifier) -> None:
    """Persist atomically so a concurrent reader never sees a half-written file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"digest": classifier.training_digest, "pipeline": classifier.pipeline}
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".intent-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
    except OSError:
        # A read-only or full disk must not stop the agent: it just retrains next time.
        logger.warning("could not write intent classifier cache %s", path, exc_info=True)


_loaded: dict[tuple[Path | None, Path | None], IntentClassifier] = {}
_lock = threading.Lock()


def load_classifier(fixtures_dir: Path | None = None, cache_dir: Path | None = None) -> IntentClassifier:
    """The classifier for this data, trained at most once per process.

    ``fixtures_dir`` is the shared fixtures directory (Bitext is used when ``bitext/train.csv``
    exists under it); ``cache_dir`` is where the fitted pipeline is persisted, or ``None`` for
    no disk cache.
    """
    key = (
        fixtures_dir.resolve() if fixtures_dir is not None else None,
        cache_dir.resolve() if cache_dir is not None else None,
    )
    with _lock:
        cached = _loaded.get(key)
        if cached is not None:
            return cached
        examples, weights = training_examples(fixtures_dir)
        digest = training_digest(examples, weights)
        classifier = _read_cache(cache_file(cache_dir, digest), digest) if cache_dir is not None else None
        if classifier is None:
            logger.info(
                "Training the intent classifier on %d utterances (first run; cached after)…", len(examples)
            )
            classifier = IntentClassifier.train(examples, weights)
            logger.info("Intent classifier trained.")
            if cache_dir is not None:
                _write_cache(cache_file(cache_dir, digest), classifier)
        _loaded[key] = classifier
        return classifier


def clear_memory_cache() -> None:
    """Forget the per-process classifiers (tests use it to exercise the disk cache)."""
    with _lock:
        _loaded.clear()
