"""Fixtures shared by the offline-model tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.offline.nlu.classifier import IntentClassifier, load_classifier

# The shared, read-only fixtures live beside the repository: <repo>/../shared/fixtures.
FIXTURES_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"


@pytest.fixture(scope="session")
def offline_fixtures_dir() -> Path:
    """The shared fixtures directory; its absence is a broken checkout, not a reason to skip.

    Named apart from the suite-wide ``fixtures_dir`` (which goes through ``Settings``) so that
    neither silently shadows the other.
    """
    for required in ("bitext/train.csv", "bitext/dev.csv"):
        if not (FIXTURES_DIR / required).is_file():
            pytest.fail(f"shared fixtures missing: expected {FIXTURES_DIR / required}", pytrace=False)
    return FIXTURES_DIR


@pytest.fixture(scope="session")
def classifier(offline_fixtures_dir: Path) -> IntentClassifier:
    """The production configuration (own utterances + Bitext train), trained once per session."""
    return load_classifier(offline_fixtures_dir, cache_dir=None)
