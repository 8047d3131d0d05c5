"""The importer: an exported Gorgias ticket becomes a draft case that parses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from evals.importer import draft_case, import_file, message_text, tickets_in
from evals.models import Case

# A ticket as GET /api/tickets/{id} returns it (the fields the importer reads, plus some it ignores).
TICKET: dict[str, Any] = {
    "id": 48213,
    "uri": "/api/tickets/48213/",
    "subject": "Where is my order #1001?",
    "status": "closed",
    "channel": "email",
    "created_datetime": "2026-11-02T10:15:00+00:00",
    "customer": {"id": 7, "email": "real.person@gmail.com", "name": "Real Person"},
    "tags": [{"id": 1, "name": "where-is-my-order"}, {"id": 2, "name": "vip"}],
    "messages": [
        {
            "id": 3,
            "from_agent": True,
            "channel": "email",
            "via": "helpdesk",
            "public": True,
            "body_text": "Hi! It shipped yesterday with UPS, tracking 1Z999.",
            "sender": {"name": "Rosa Alvarez", "email": "rosa@shop.test"},
            "created_datetime": "2026-11-02T11:00:00+00:00",
        },
        {
            "id": 1,
            "from_agent": False,
            "channel": "email",
            "via": "email",
            "body_text": "Hello,\nwhere is my order #1001? Call me at +1 415-555-0101.\n\nOn Mon, Shop wrote:\n> Thanks for your order",
            "stripped_text": None,
            "sender": {"email": "real.person@gmail.com"},
            "created_datetime": "2026-11-02T10:15:00+00:00",
        },
        {
            "id": 2,
            "from_agent": True,
            "channel": "internal-note",
            "via": "helpdesk",
            "body_text": "Customer is a VIP, be nice",
            "created_datetime": "2026-11-02T10:30:00+00:00",
        },
        {
            "id": 4,
            "from_agent": False,
            "channel": "email",
            "via": "email",
            "body_html": "<p>Thanks! It&#39;s <b>here</b> now. My email is real.person@gmail.com</p>",
            "created_datetime": "2026-11-03T09:00:00+00:00",
        },
    ],
}


def test_draft_case_from_a_ticket() -> None:
    text = draft_case(TICKET)
    case = Case.model_validate(yaml.safe_load(text))
    assert case.id == "gorgias-48213"
    assert case.tags == ["imported", "draft"]
    assert [t.shopper for t in case.turns] == [
        "Hello,\nwhere is my order #1001? Call me at +1 555-0100.",
        "Thanks! It's here now. My email is shopper@example.com",
    ]
    assert case.expect.intent == "wismo"  # from the where-is-my-order tag
    # The human agent's answer is kept as a comment under the turn it answered; notes are dropped.
    assert "# Rosa Alvarez answered: Hi! It shipped yesterday with UPS, tracking 1Z999." in text
    assert "VIP, be nice" not in text
    assert "real.person" not in text and "415-555-0101" not in text


def test_personal_data_kept_on_request() -> None:
    text = draft_case(TICKET, keep_personal_data=True)
    assert "real.person@gmail.com" in text


def test_quoted_replies_and_html_are_stripped() -> None:
    assert message_text({"body_text": "Yes please\n> old quote\nOn Tue, Shop wrote:\nolder"}) == "Yes please"
    assert message_text({"stripped_text": "short", "body_text": "long"}) == "short"
    assert message_text({"body_html": "<div>a &amp; b</div>"}) == "a & b"


def test_exports_with_several_tickets() -> None:
    assert len(tickets_in({"data": [TICKET, TICKET], "object": "list"})) == 2
    assert len(tickets_in([TICKET])) == 1
    with pytest.raises(ValueError, match="no messages"):
        tickets_in({"id": 1, "subject": "list view without messages"})


def test_a_ticket_without_shopper_messages_is_refused() -> None:
    only_agent = {**TICKET, "messages": [TICKET["messages"][0]]}
    with pytest.raises(ValueError, match="no message from the shopper"):
        draft_case(only_agent)


def test_yaml_special_characters_survive() -> None:
    tricky = {
        **TICKET,
        "id": "A/B 9",
        "tags": [],
        "messages": [{"from_agent": False, "body_text": 'order #1001: "quoted" & key: value - [x] {y}'}],
    }
    case = Case.model_validate(yaml.safe_load(draft_case(tricky)))
    assert case.id == "gorgias-a-b-9"
    assert case.turns[0].shopper == 'order #1001: "quoted" & key: value - [x] {y}'
    assert case.expect.intent is None


def test_import_file_writes_drafts_and_never_overwrites(tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"data": [TICKET]}), encoding="utf-8")
    out = tmp_path / "drafts"
    drafts = import_file(export, out)
    assert [identifier for identifier, _ in drafts] == ["gorgias-48213"]
    assert Case.model_validate(yaml.safe_load((out / "gorgias-48213.yaml").read_text(encoding="utf-8"))).turns
    with pytest.raises(FileExistsError):
        import_file(export, out)
