"""The store's own help content: Markdown files in a folder, searched with BM25.

Each file is one topic (`# Title`), split into passages at its `## ` headings; a file without
headings is one passage. The text may name the store's rules as `$return_window_days`,
`$refund_auto_approve_limit`, `$final_sale_tags`, `$currency`, `$max_labels_per_order` and
`$store_name`: they are filled from the `StorePolicy` the tools enforce, so the help text can
never promise a return window the tools then refuse. Search is BM25 (`bm25s`) over the words of
each passage, its heading and its topic's title; a question that shares no meaningful word with
any passage, or scores below `MIN_SCORE`, finds nothing, and the agent says it does not know.

Pages directly in the folder are in the default language (English); a sub-folder named by a language
code (`es/`, `fr/`, `de/`) holds that language's pages, with the same format. Each language has its
own index and tokenizer: accents folded ("devolución" is "devolucion"), its stop words dropped and
its words stemmed with Snowball (`snowballstemmer`). A question in a language with no pages, or
that its pages do not answer, is searched in the default-language pages, and each hit says which
language its passage is written in, so the reply can say the page is in English.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any, Final, Protocol

import bm25s  # type: ignore[import-untyped]
import snowballstemmer  # type: ignore[import-untyped]

from tools.policy import StorePolicy

logger = logging.getLogger(__name__)
# bm25s logs every index build at DEBUG through its own handler; one build per process is not news.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# Below this BM25 score the best passage shares only common words with the question: not an answer.
MIN_SCORE: Final[float] = 0.3
# ... and it must hold more than this share of the question's meaning: its words weighted by how rare
# they are in the help pages, a word the pages never use weighing most ("who discovered penicillin"
# shares "discover" with the payment page, but "penicillin" is nowhere).
MIN_COVERAGE: Final[float] = 0.4
# ... a little more in the translated pages, whose stemmed words are fewer and shared by more passages:
# "¿tenéis algún descuento para estudiantes?" covers 0.43 of the discount codes passage, a question
# the pages answer covers more than half of its passage (tests/tools/test_store_help.py pins both).
MIN_COVERAGE_BY_LANGUAGE: Final[dict[str, float]] = {"es": 0.45, "fr": 0.45, "de": 0.45}
# A second passage is given too when it scores at least this share of the best one.
RUNNER_UP_SHARE: Final[float] = 0.8

_WORD = re.compile(r"[a-z0-9]+")
_HEADING = re.compile(r"^(#{1,2})\s+(.+?)\s*$")
_STOPWORDS: Final[frozenset[str]] = frozenset(
    """a about am an and any are as at be been being but by can could did do does doing for from get got
    had has have having he her here hi hello hey how i if in into is it its just me might my of on or our
    ours please she should so some than that the their them then there these they this those to too us
    was we were what when where which who why will with would you your yours im ive id dont cant s t
    hm um ok okay thanks thank tell know want wanna need like question ask also much many still whats
    hows wheres long take best good way really actually anything something over any go through first
    someone certain people""".split()
)
# Word endings folded together so "returns", "returned" and "returning" all match "return".
_SUFFIXES: Final[tuple[str, ...]] = ("able", "ies", "ing", "ed", "es", "s")
_SIBILANT_ES = re.compile(r"(?:s|x|z|ch|sh)es$")
# Words the help text does not use, as the words it does ("money back" is a refund).
_SYNONYMS: Final[dict[str, str]] = {
    "policy": "return",
    "policies": "return",
    "deliver": "ship",
    "delivery": "ship",
    "postage": "ship",
    "abroad": "international",
    "overseas": "international",
    "worldwide": "international",
    "fee": "cost",
    "charge": "cost",
    "reach": "contact",
    "phone": "contact",
    "call": "contact",
    "email": "contact",
    "paypal": "payment",
    "pay": "payment",
    "visa": "payment",
    "swap": "exchange",
}
_HIDDEN = re.compile(r"<!--(.*?)-->", re.DOTALL)

DEFAULT_LANGUAGE: Final[str] = "en"
"""The language of the pages directly in the folder; a sub-folder named by a language code holds that
language's pages (`es/`, `fr/`, `de/` ...)."""
_LANGUAGE_FOLDER = re.compile(r"^[a-z]{2}$")
# Snowball stemmers (snowballstemmer, pure Python) for the languages a folder may be named by.
_SNOWBALL: Final[dict[str, str]] = {
    "es": "spanish",
    "fr": "french",
    "de": "german",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
    "da": "danish",
    "sv": "swedish",
    "no": "norwegian",
    "fi": "finnish",
    "ca": "catalan",
    "ro": "romanian",
}
# Function words and the chatter around a question, accents folded ("¿cuánto tiempo tengo para ...?").
_FOREIGN_STOPWORDS: Final[dict[str, frozenset[str]]] = {
    "es": frozenset(
        """a al algo alguien algun alguna algunas algunos ante antes como con cual cuales cuando cuanto
        cuanta cuantos cuantas de del desde donde el ella ellas ellos en entre era es esa esas ese eso
        esos esta estas este esto estos estoy estan fue ha hay haber han has he hola la las le les lo los
        me mi mis mucho muy ni nos nosotros o os otra otro otros para pero poco por porque puedo puede
        pueden podeis podemos podria que quien quienes se sea ser si sin sobre soy su sus tambien te
        tengo tiene tienen teneis tenemos ti tu tus un una uno unos unas usted ustedes vosotros y ya yo
        gracias favor quiero queria quisiera saber necesito hacer haceis hacen hace pregunta dime decir
        gustaria vale oye buenas buenos tardes ok vuestra vuestro vuestros vuestras cosa mas""".split()
    ),
    "fr": frozenset(
        """a ai au aux avec avez avoir as c ca ce ces cet cette comme comment d dans de des du elle elles
        en est et etre il ils j je l la le les leur leurs lui m ma mais me mes moi mon n ne nos notre
        nous on ou par pas peut peux pouvez pouvons pour qu quand que quel quelle quelles quels qui s sa
        se ses si son sont sur t ta te tes toi ton tu un une vos votre vous y bonjour bonsoir merci svp
        plait faire faites fait voudrais veux voulez voudrions savoir question combien dois doit puis
        ok salut chose quelque veut quoi""".split()
    ),
    "de": frozenset(
        """aber alle als also am an auch auf aus bei bin bis bitte da damit das dass dein deine dem den
        der des die dir doch du ein eine einem einen einer eines er es euch euer eure fur gibt habe
        haben hab habt hallo hat hatte ich ihr ihre ihren ihrem ihnen im in ist ja kann kannst konnen konnt
        man mein meine meinen mich mir mit muss nach nicht noch nun nur ob oder sein sich sie sind so
        uber um und uns unser unsere von vor war was welche welcher welches welchen wenn wer werden wie
        will wir wird wo zu zum zur danke gern gerne frage mochte mochten wurde wurden wissen lange
        sagen eigentlich mal ok guten tag etwas""".split()
    ),
}


def fold(text: str) -> str:
    """Lower-cased, accents dropped: "Devolución" and "devolucion" are one word, "Größe" is "grosse"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("\u0153", "oe")


class _Tokenizer:
    """The searchable words of a text in one language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.stopwords = (
            _STOPWORDS if language == DEFAULT_LANGUAGE else _FOREIGN_STOPWORDS.get(language, frozenset())
        )
        algorithm = _SNOWBALL.get(language)
        self._stemmer: Any = snowballstemmer.stemmer(algorithm) if algorithm else None
        self._lock = threading.Lock()  # a Snowball stemmer keeps state while it stems a word

    def terms(self, text: str, also_stop: frozenset[str] = frozenset()) -> list[str]:
        english = self.language == DEFAULT_LANGUAGE
        # "don't" is "dont"; "l'article" and "qu'est-ce" are two words.
        text = fold(text).replace("\u2019", "'").replace("'", "" if english else " ")
        words = [
            w for w in _WORD.findall(text) if len(w) >= 2 and w not in self.stopwords and w not in also_stop
        ]
        if english:
            # The folding of word endings the demo pages were tuned with.
            return [_stem(_SYNONYMS.get(w, w)) for w in words]
        if self._stemmer is None:
            return words
        with self._lock:
            return [str(s) for s in self._stemmer.stemWords(words)]


_TOKENIZERS: dict[str, _Tokenizer] = {}
_TOKENIZERS_LOCK = threading.Lock()


def _tokenizer(language: str) -> _Tokenizer:
    with _TOKENIZERS_LOCK:
        if language not in _TOKENIZERS:
            _TOKENIZERS[language] = _Tokenizer(language)
        return _TOKENIZERS[language]


def terms(text: str, language: str = DEFAULT_LANGUAGE) -> list[str]:
    """The searchable words of a text: folded to lower case without accents, stop words dropped,
    endings folded (Snowball stemming for other languages than English)."""
    return _tokenizer(language).terms(text)


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if suffix == "es" and not _SIBILANT_ES.search(word):
            continue  # "candles" is "candle" + "s", "boxes" is "box" + "es"
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            stem = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            # "shipping" -> "ship", like "ship" itself.
            if suffix in ("ing", "ed") and len(stem) > 3 and stem[-1] == stem[-2]:
                stem = stem[:-1]
            return _SYNONYMS.get(stem, stem)
    return word


@dataclass(frozen=True)
class HelpPassage:
    """One passage of the help content."""

    topic: str
    """The file's title (`# Title`), e.g. "Returns and exchanges"."""
    heading: str
    """The section's heading (`## ...`), or the topic for a file without sections."""
    file: str
    """The file's name inside the folder, e.g. `returns.md`."""
    text: str
    keywords: str = ""
    """Other words shoppers use for it (`<!-- ... -->` in the file): searched, never shown."""
    language: str = DEFAULT_LANGUAGE
    """The language the passage is written in (ISO 639-1)."""

    @property
    def source(self) -> str:
        """How the agent names where an answer comes from."""
        return self.topic if self.heading == self.topic else f"{self.topic} › {self.heading}"


@dataclass(frozen=True)
class HelpHit:
    passage: HelpPassage
    score: float

    @property
    def language(self) -> str:
        return self.passage.language


def policy_values(policy: StorePolicy, store_name: str) -> dict[str, str]:
    """The store's rules as the help text names them."""
    return {
        "return_window_days": str(policy.return_window_days),
        "refund_auto_approve_limit": f"{policy.refund_auto_approve_limit:.2f}",
        "final_sale_tags": ", ".join(policy.final_sale_tags),
        "currency": policy.currency,
        "max_labels_per_order": str(policy.max_labels_per_order),
        "store_name": store_name,
    }


def read_passages(
    folder: Path, values: dict[str, str], language: str = DEFAULT_LANGUAGE
) -> list[HelpPassage]:
    """Every passage of every `*.md` file directly in `folder` (sorted by name; README.md is for
    editors), as written in `language`."""
    passages: list[HelpPassage] = []
    for path in sorted(folder.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        text = Template(path.read_text(encoding="utf-8")).safe_substitute(values)
        passages.extend(_split(path.name, text, language))
    return passages


def read_library(folder: Path, values: dict[str, str]) -> list[HelpPassage]:
    """The default-language pages of `folder`, then those of each language sub-folder (`es/`, ...)."""
    passages = read_passages(folder, values)
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and _LANGUAGE_FOLDER.match(p.name)):
        if sub.name != DEFAULT_LANGUAGE:
            passages.extend(read_passages(sub, values, sub.name))
    return passages


def _split(file: str, text: str, language: str = DEFAULT_LANGUAGE) -> list[HelpPassage]:
    topic = file.removesuffix(".md").replace("-", " ").capitalize()
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading and heading.group(1) == "#":
            topic = heading.group(2)
        elif heading:
            sections.append((heading.group(2), []))
        else:
            sections[-1][1].append(line)
    passages = []
    for title, lines in sections:
        raw = "\n".join(lines)
        body = _HIDDEN.sub("", raw).strip()
        if body:
            keywords = " ".join(m.strip() for m in _HIDDEN.findall(raw))
            passages.append(
                HelpPassage(
                    topic=topic,
                    heading=title or topic,
                    file=file,
                    text=body,
                    keywords=keywords,
                    language=language,
                )
            )
    return passages


class _Index:
    """One language's passages and their BM25 index."""

    def __init__(self, language: str, passages: list[HelpPassage]) -> None:
        self.language = language
        self.passages = passages
        self.tokenizer = _tokenizer(language)
        # The heading and topic are what a passage is about: they count twice.
        corpus = [
            self.tokenizer.terms(f"{p.topic} {p.heading} {p.topic} {p.heading} {p.keywords} {p.text}")
            for p in passages
        ]
        self._retriever = bm25s.BM25()
        self._retriever.index(corpus, show_progress=False)
        self._vocabulary = frozenset(t for doc in corpus for t in doc)
        self._terms = [frozenset(doc) for doc in corpus]
        self._document_frequency: dict[str, int] = {}
        for doc_terms in self._terms:
            for term in doc_terms:
                self._document_frequency[term] = self._document_frequency.get(term, 0) + 1

    def _rarity(self, term: str) -> float:
        """BM25's inverse document frequency of a term (a term in no passage is the rarest)."""
        n, df = len(self.passages), self._document_frequency.get(term, 0)
        return math.log((n - df + 0.5) / (df + 0.5) + 1.0)

    def search(self, asked: list[str], limit: int) -> list[HelpHit]:
        wanted = [t for t in asked if t in self._vocabulary]
        if not wanted:
            return []
        scores = self._retriever.get_scores(wanted)
        ranked = sorted(range(len(self.passages)), key=lambda i: (-float(scores[i]), i))
        best = float(scores[ranked[0]])
        weights = {t: self._rarity(t) for t in asked}
        covered = sum(w for t, w in weights.items() if t in self._terms[ranked[0]]) / sum(weights.values())
        if best < MIN_SCORE or covered <= MIN_COVERAGE_BY_LANGUAGE.get(self.language, MIN_COVERAGE):
            return []
        return [
            HelpHit(self.passages[i], round(float(scores[i]), 3))
            for i in ranked[:limit]
            if float(scores[i]) >= best * RUNNER_UP_SHARE
        ]


def language_code(language: str | None) -> str:
    """ "es", "ES", "es-MX" and "es_MX" are "es"; nothing is the default language."""
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return code if _LANGUAGE_FOLDER.match(code) else DEFAULT_LANGUAGE


class KnowledgeBase:
    """The help passages, one BM25 index per language; built once, searched per question."""

    def __init__(self, passages: list[HelpPassage]) -> None:
        self.passages = passages
        by_language: dict[str, list[HelpPassage]] = {}
        for passage in passages:
            by_language.setdefault(passage.language, []).append(passage)
        self._indexes = {language: _Index(language, ps) for language, ps in by_language.items()}

    @property
    def languages(self) -> list[str]:
        """The languages the help pages are written in."""
        return sorted(self._indexes)

    @classmethod
    def from_folder(cls, folder: Path, policy: StorePolicy, store_name: str) -> KnowledgeBase:
        if not folder.is_dir():
            logger.warning("KNOWLEDGE_DIR %s is not a folder: store questions will find no answer", folder)
            return cls([])
        passages = read_library(folder, policy_values(policy, store_name))
        base = cls(passages)
        logger.info("Store help content: %d passages in %s from %s", len(passages), base.languages, folder)
        return base

    def search(self, question: str, limit: int = 2, language: str = DEFAULT_LANGUAGE) -> list[HelpHit]:
        """The passages that answer `question`, best first; empty when nothing relevant scores.

        The pages in the shopper's `language` first; when it has none, or none answers, the
        default-language pages (each hit names the language its passage is written in).
        """
        language = language_code(language)
        if language != DEFAULT_LANGUAGE and language in self._indexes:
            index = self._indexes[language]
            hits = index.search(list(dict.fromkeys(index.tokenizer.terms(question))), limit)
            if hits:
                return hits
        default = self._indexes.get(DEFAULT_LANGUAGE)
        if default is None:
            return []
        # The question is still in the shopper's language: its function words are not search words.
        also_stop = _FOREIGN_STOPWORDS.get(language, frozenset())
        return default.search(list(dict.fromkeys(default.tokenizer.terms(question, also_stop))), limit)


class HelpSearch(Protocol):
    """What the `search_store_help` tool needs (a blocking call: the tool runs it in a worker thread)."""

    def search(self, question: str, limit: int = 2, language: str = DEFAULT_LANGUAGE) -> list[HelpHit]: ...


class HelpPages:
    """A folder of help pages, read and indexed on first use: never at start-up (the composition root
    may run on an event loop), and from the tool only in a worker thread."""

    def __init__(self, folder: Path, policy: StorePolicy, store_name: str) -> None:
        self.folder = folder
        self._policy = policy
        self._store_name = store_name
        self._base: KnowledgeBase | None = None
        self._lock = threading.Lock()

    def knowledge_base(self) -> KnowledgeBase:
        with self._lock:
            if self._base is None:
                self._base = KnowledgeBase.from_folder(self.folder, self._policy, self._store_name)
            return self._base

    def search(self, question: str, limit: int = 2, language: str = DEFAULT_LANGUAGE) -> list[HelpHit]:
        return self.knowledge_base().search(question, limit, language)
