"""The case format and the built-in suite: every file parses, ids are unique, the schema is current,
and the suite covers what issue 7 asks for."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from evals.loading import CASES_DIR, build_seed, load_case_file, load_cases, select
from evals.models import Case, Turn, WorldSpec, parse_clock, schema_text

SCHEMA = CASES_DIR.parent / "schema.json"
DEMO_ORDERS = range(1001, 1010)
INTENTS = ("wismo", "returns", "refunds", "order_change", "store_help", "escalation", "other")


@pytest.fixture(scope="module")
def suite() -> list[Case]:
    return [loaded.case for loaded in load_cases()]


def test_every_case_file_parses_and_ids_are_unique(suite: list[Case]) -> None:
    ids = [case.id for case in suite]
    assert len(ids) == len(set(ids))
    assert len(suite) >= 60


def test_schema_json_is_up_to_date() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), (
        "evals/schema.json is stale: run `python -m evals.models > evals/schema.json`"
    )


def test_every_case_file_validates_against_the_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    for path in sorted(CASES_DIR.glob("*.yaml")):
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8"))))
        assert not errors, f"{path.name}: {errors[0].message}"


def test_the_suite_covers_every_intent_and_demo_order(suite: list[Case]) -> None:
    asked = " ".join(turn.shopper or "" for case in suite for turn in case.turns)
    for number in DEMO_ORDERS:
        assert str(number) in asked, f"no shopper asks about demo order #{number}"
    expected_intents = {
        intent
        for case in suite
        for expect in [case.expect, *(t.expect for t in case.turns if t.expect)]
        for intent in [expect.intent, *(expect.intents or [])]
        if intent
    }
    assert expected_intents == set(INTENTS)
    tags = {tag for case in suite for tag in case.tags}
    for needed in (
        "happy-path", "missing-details", "wrong-details", "correction", "multi-intent", "typos", "casual",
        "declined", "approval", "denied", "human-takeover", "handback", "stuck-parcel", "already-refunded",
        "final-sale", "outside-window", "angry", "injection", "out-of-scope",
    ):  # fmt: skip
        assert needed in tags, f"no case tagged {needed}"
    actions = {turn.kind for case in suite for turn in case.turns}
    assert {
        "shopper",
        "human_reply",
        "close_ticket",
        "handback",
        "approve_refund",
        "deny_refund",
        "clock",
    } <= actions


def test_the_smoke_subset_is_small(suite: list[Case]) -> None:
    smoke = [case for case in suite if "smoke" in case.tags]
    assert 6 <= len(smoke) <= 12


def test_select_by_tags_and_ids() -> None:
    loaded = load_cases()
    assert {c.case.id for c in select(loaded, ["stripe"])} == {
        "refunds-1009-stripe",
        "refunds-1032-discount-code-stripe",
    }
    assert [c.case.id for c in select(loaded, ids=["other-poem"])] == ["other-poem"]
    assert len(select(loaded)) == len(loaded)


def test_a_turn_is_exactly_one_thing() -> None:
    assert Turn.model_validate({"shopper": "hi"}).kind == "shopper"
    assert Turn.model_validate({"action": "approve_refund"}).kind == "approve_refund"
    with pytest.raises(ValidationError, match="exactly one"):
        Turn.model_validate({"shopper": "hi", "human_reply": "hello"})
    with pytest.raises(ValidationError, match="exactly one"):
        Turn.model_validate({})
    with pytest.raises(ValidationError):
        Turn.model_validate({"clock": "tomorrow"})


def test_unknown_keys_are_errors() -> None:
    with pytest.raises(ValidationError, match="must_sya"):
        Case.model_validate({"id": "x", "turns": [{"shopper": "hi", "expect": {"must_sya": ["typo"]}}]})
    with pytest.raises(ValidationError, match="shopper turn"):
        Case.model_validate({"id": "x", "turns": [{"clock": "+1d"}]})


def test_parse_clock() -> None:
    now = datetime(2026, 11, 20, 15, tzinfo=UTC)
    assert parse_clock("+2d", now) == datetime(2026, 11, 22, 15, tzinfo=UTC)
    assert parse_clock("-30m", now) == datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
    assert parse_clock("2026-12-01T09:00:00Z", now) == datetime(2026, 12, 1, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone"):
        parse_clock("2026-12-01T09:00:00", now)


def test_loader_refuses_text_cut_by_a_yaml_comment(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("- id: cut\n  turns:\n    - shopper: where is #1001?\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.yaml:3: quote this text"):
        load_case_file(path)


def test_loader_names_the_broken_case(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text("- id: fine\n  turns: [{shopper: hi}]\n- id: broken\n  turns: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"case 2 \(broken\)"):
        load_case_file(path)


def test_duplicate_ids_across_files_are_refused(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("id: same\nturns: [{shopper: hi}]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'same' is in both"):
        load_cases([tmp_path])


def test_world_patches_change_only_the_fields_written(tmp_path: Path) -> None:
    spec = WorldSpec.model_validate(
        {
            "orders": [
                {"number": 1004, "note": "gift"},
                {
                    "number": 1099,
                    "email": "ana.silva@example.com",
                    "placed_days_ago": 1,
                    "items": [{"sku": "LANTERN-LED"}],
                },
            ],
            "products": [{"sku": "MUG-SET-4", "tags": ["final-sale"]}],
        }
    )
    seed = build_seed(spec, tmp_path)
    orders = {o.number: o for o in seed.orders}
    assert orders[1004].note == "gift" and orders[1004].items[0].sku == "JACKET-DOWN-BLK"
    assert orders[1099].items[0].sku == "LANTERN-LED"
    assert next(p for p in seed.products if p.sku == "MUG-SET-4").tags == ["final-sale"]
    # The cached base seed is not modified by a patch.
    assert next(o for o in build_seed(WorldSpec(), tmp_path).orders if o.number == 1004).note is None
