"""`support-agent classify`: the offline intent classifier on your own utterances.

One utterance per stdin line in; one JSON object per line out, so anyone can measure the
classifier on their own data (e.g. `support-agent classify < mine.txt > predictions.jsonl`).
"""

from __future__ import annotations

import argparse
import json
import sys

from agent.offline.nlu.classifier import load_classifier
from agent.offline.nlu.entities import extract_email, extract_order_number
from agent.settings import get_settings


def run_classify(_: argparse.Namespace) -> int:
    settings = get_settings()
    fixtures = settings.fixtures_dir if settings.fixtures_dir.is_dir() else None
    classifier = load_classifier(fixtures, settings.cache_dir)
    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        prediction = classifier.predict(text)
        row = {
            "text": text,
            "intent": prediction.intent,
            "confidence": round(prediction.confidence, 4),
            "order_number": extract_order_number(text),
            "email": extract_email(text),
        }
        sys.stdout.write(json.dumps(row) + "\n")
        sys.stdout.flush()
    return 0
