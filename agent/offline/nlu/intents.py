"""Intent labels and the project's own labelled utterances.

The utterances live in ``data/utterances/<intent>.txt``, one per line, written for this project
(not copied from any data set). They are split into a training part and a held-out part by a hash
of the text, so the split never changes when lines are added elsewhere in a file and a line can
never leak from one part to the other between runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, get_args

Intent = Literal["wismo", "returns", "refunds", "order_change", "store_help", "escalation", "other"]
INTENTS: Final[tuple[Intent, ...]] = get_args(Intent)

UTTERANCES_DIR: Final[Path] = Path(__file__).resolve().parent / "data" / "utterances"

# One line in HELD_OUT_BUCKETS / 5 ends up held out: an 80/20 split.
_SPLIT_BUCKETS: Final[int] = 5
_HELD_OUT_BUCKETS: Final[int] = 1


@dataclass(frozen=True, slots=True)
class LabelledUtterance:
    """One example: what a shopper typed and the intent it expresses."""

    text: str
    intent: Intent


def parse_intent(label: str) -> Intent:
    """Return ``label`` as an ``Intent``, or raise ``ValueError`` for anything else."""
    for intent in INTENTS:
        if label == intent:
            return intent
    raise ValueError(f"unknown intent label {label!r}; expected one of {', '.join(INTENTS)}")


def load_own_utterances(data_dir: Path = UTTERANCES_DIR) -> list[LabelledUtterance]:
    """Read every ``<intent>.txt`` file, in ``INTENTS`` order, skipping blank lines.

    A missing file is an error: a silently absent class would train a classifier that can never
    predict it.
    """
    examples: list[LabelledUtterance] = []
    for intent in INTENTS:
        path = data_dir / f"{intent}.txt"
        if not path.is_file():
            raise FileNotFoundError(f"missing utterance file for intent {intent!r}: {path}")
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if text:
                examples.append(LabelledUtterance(text=text, intent=intent))
    return examples


def is_held_out(text: str) -> bool:
    """Whether an utterance belongs to the held-out evaluation split (stable, hash-based)."""
    key = " ".join(text.lower().split()).encode("utf-8")
    bucket = int.from_bytes(hashlib.sha256(key).digest()[:4], "big") % _SPLIT_BUCKETS
    return bucket < _HELD_OUT_BUCKETS


def split_own_utterances(
    examples: list[LabelledUtterance],
) -> tuple[list[LabelledUtterance], list[LabelledUtterance]]:
    """Split into ``(train, held_out)``, roughly 80/20, deterministically."""
    train = [ex for ex in examples if not is_held_out(ex.text)]
    held_out = [ex for ex in examples if is_held_out(ex.text)]
    return train, held_out
