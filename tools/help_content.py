"""The store's own help content: Markdown files in a folder, searched with BM25.

Each file is one topic (`# Title`), split into passages at its `## ` headings; a file without
headings is one passage. The text may name the store's rules as `$return_window_days`,
`$refund_auto_approve_limit`, `$final_sale_tags`, `$currency`, `$max_labels_per_order` and
`$store_name`: they are filled from the `StorePolicy` the tools enforce, so the help text can
never promise a return window the tools then refuse. Search is BM25 (`bm25s`) over the words of
each passage, its heading and its topic's title; a question that shares no meaningful word with
any passage, or scores below `MIN_SCORE`, finds nothing, and the agent says it does not know.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Final, Protocol

import bm25s  # type: ignore[import-untyped]

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


def terms(text: str) -> list[str]:
    """The searchable words of a text: lower-cased, stop words dropped, endings folded."""
    out: list[str] = []
    for word in _WORD.findall(text.lower().replace("\u2019", "'").replace("'", "")):
        if word in _STOPWORDS or len(word) < 2:
            continue
        out.append(_stem(_SYNONYMS.get(word, word)))
    return out


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

    @property
    def source(self) -> str:
        """How the agent names where an answer comes from."""
        return self.topic if self.heading == self.topic else f"{self.topic} › {self.heading}"


@dataclass(frozen=True)
class HelpHit:
    passage: HelpPassage
    score: float


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


def read_passages(folder: Path, values: dict[str, str]) -> list[HelpPassage]:
    """Every passage of every `*.md` file in `folder` (sorted by name; README.md is for editors)."""
    passages: list[HelpPassage] = []
    for path in sorted(folder.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        text = Template(path.read_text(encoding="utf-8")).safe_substitute(values)
        passages.extend(_split(path.name, text))
    return passages


def _split(file: str, text: str) -> list[HelpPassage]:
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
                HelpPassage(topic=topic, heading=title or topic, file=file, text=body, keywords=keywords)
            )
    return passages


class KnowledgeBase:
    """The help passages and their BM25 index; built once, searched per question."""

    def __init__(self, passages: list[HelpPassage]) -> None:
        self.passages = passages
        self._retriever: bm25s.BM25 | None = None
        self._vocabulary: frozenset[str] = frozenset()
        self._terms: list[frozenset[str]] = []
        self._document_frequency: dict[str, int] = {}
        if passages:
            # The heading and topic are what a passage is about: they count twice.
            corpus = [
                terms(f"{p.topic} {p.heading} {p.topic} {p.heading} {p.keywords} {p.text}") for p in passages
            ]
            retriever = bm25s.BM25()
            retriever.index(corpus, show_progress=False)
            self._retriever = retriever
            self._vocabulary = frozenset(t for doc in corpus for t in doc)
            self._terms = [frozenset(doc) for doc in corpus]
            for doc_terms in self._terms:
                for term in doc_terms:
                    self._document_frequency[term] = self._document_frequency.get(term, 0) + 1

    @classmethod
    def from_folder(cls, folder: Path, policy: StorePolicy, store_name: str) -> KnowledgeBase:
        if not folder.is_dir():
            logger.warning("KNOWLEDGE_DIR %s is not a folder: store questions will find no answer", folder)
            return cls([])
        passages = read_passages(folder, policy_values(policy, store_name))
        logger.info("Store help content: %d passages from %s", len(passages), folder)
        return cls(passages)

    def _rarity(self, term: str) -> float:
        """BM25's inverse document frequency of a term (a term in no passage is the rarest)."""
        n, df = len(self.passages), self._document_frequency.get(term, 0)
        return math.log((n - df + 0.5) / (df + 0.5) + 1.0)

    def search(self, question: str, limit: int = 2) -> list[HelpHit]:
        """The passages that answer `question`, best first; empty when nothing relevant scores."""
        asked = list(dict.fromkeys(terms(question)))
        wanted = [t for t in asked if t in self._vocabulary]
        if self._retriever is None or not wanted:
            return []
        scores = self._retriever.get_scores(wanted)
        ranked = sorted(range(len(self.passages)), key=lambda i: (-float(scores[i]), i))
        best = float(scores[ranked[0]])
        weights = {t: self._rarity(t) for t in asked}
        covered = sum(w for t, w in weights.items() if t in self._terms[ranked[0]]) / sum(weights.values())
        if best < MIN_SCORE or covered <= MIN_COVERAGE:
            return []
        return [
            HelpHit(self.passages[i], round(float(scores[i]), 3))
            for i in ranked[:limit]
            if float(scores[i]) >= best * RUNNER_UP_SHARE
        ]


class HelpSearch(Protocol):
    """What the `search_store_help` tool needs (a blocking call: the tool runs it in a worker thread)."""

    def search(self, question: str, limit: int = 2) -> list[HelpHit]: ...


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

    def search(self, question: str, limit: int = 2) -> list[HelpHit]:
        return self.knowledge_base().search(question, limit)
