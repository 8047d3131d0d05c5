"""Typo correction before classification: one-slip misspellings of key words, and nothing else."""

from __future__ import annotations

import pytest

from agent.offline.nlu.typos import CORRECTIONS, KEY_WORDS, build_corrections, correct_typos


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("retrun", "return"),  # swapped
        ("ordr", "order"),  # dropped
        ("oder", "order"),
        ("odrer", "order"),
        ("pakage", "package"),
        ("refnd", "refund"),
        ("cancle", "cancel"),
        ("trackng", "tracking"),
        ("adress", "address"),
        ("adresss", "address"),  # two slips: from the hand-written list
        ("addresss", "address"),  # doubled
        ("recieved", "received"),
        ("speek", "speak"),
        ("humen", "human"),
    ],
)
def test_misspellings_are_corrected(typed: str, meant: str) -> None:
    assert CORRECTIONS[typed] == meant
    assert correct_typos(f"i {typed} it") == f"i {meant} it"


@pytest.mark.parametrize(
    "word",
    ["were", "here", "older", "border", "tracing", "manger", "charge", "mail", "stats", "peak", *KEY_WORDS],
)
def test_real_words_are_left_alone(word: str) -> None:
    assert correct_typos(word) == word


def test_a_misspelling_of_two_key_words_is_left_alone() -> None:
    # "refundd" is one slip from both "refund" and "refunded": guessing could change the meaning.
    assert "refundd" not in build_corrections(["refund", "refunded"])
    assert build_corrections(["refund"])["refundd"] == "refund"


def test_short_words_are_never_corrected() -> None:
    # Slips shorter than four letters ("itm", "tem") are too often real words or other words.
    assert all(len(typo) >= 4 for typo in CORRECTIONS)


def test_only_whole_words_change_and_spacing_is_kept() -> None:
    text = "where  is my pakage?? ordertoken , numtoken retruns"
    assert correct_typos(text) == "where  is my package?? ordertoken , numtoken returns"
