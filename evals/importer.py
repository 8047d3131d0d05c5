"""Turn an exported Gorgias ticket (the JSON of `GET /api/tickets/{id}`) into a draft eval case.

The shopper's messages become the turns; what the human agent answered is kept as comments
under each turn, so whoever finishes the case can write the expectations from what a good
answer was. The draft runs against the demo store: map the ticket's order and email to a
seed order before relying on it. Email addresses and phone numbers are replaced by
placeholders unless asked otherwise, so a real shopper's details do not end up in the suite.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from html import unescape
from pathlib import Path
from typing import Any

from agent import intents
from evals.models import CaseFile
from integrations.helpdesk_tags import HANDOVER_TAG

JSON = dict[str, Any]


def _tag_hints() -> dict[str, str]:
    """Helpdesk tags that mean an intent (each IntentSpec's `ticket_tags`, and Gorgias's own
    hand-over tag: this importer reads Gorgias tickets)."""
    hints = {tag: spec.name for spec in intents.intents() for tag in spec.ticket_tags}
    return {**hints, HANDOVER_TAG: "escalation"}


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\+?\d[\d ().-]{7,}\d")
TAG_RE = re.compile(r"<[^>]+>")
QUOTE_START = re.compile(r"^(On .+ wrote:|-{2,} ?Original Message ?-{2,}|From: .+)$", re.IGNORECASE)
PLACEHOLDER_EMAIL = "shopper@example.com"
PLACEHOLDER_PHONE = "+1 555-0100"


def tickets_in(data: Any) -> list[JSON]:
    """The tickets of an export: one ticket, a list of tickets, or a Gorgias list page."""
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    items = data if isinstance(data, list) else [data]
    tickets = [t for t in items if isinstance(t, dict)]
    for ticket in tickets:
        if not isinstance(ticket.get("messages"), list):
            raise ValueError(
                f"ticket {ticket.get('id')!r} has no messages: export it with GET /api/tickets/{{id}}"
            )
    return tickets


def message_text(message: JSON) -> str:
    """The message's own words: Gorgias's `stripped_text`, else the text body without quoted
    replies, else the HTML body without tags."""
    text = message.get("stripped_text") or message.get("body_text")
    if not text and message.get("body_html"):
        text = unescape(TAG_RE.sub(" ", str(message["body_html"])))
    lines: list[str] = []
    for line in str(text or "").splitlines():
        if QUOTE_START.match(line.strip()):
            break
        if line.lstrip().startswith(">"):
            continue
        lines.append(line.rstrip())
    return re.sub(r"[ \t]+", " ", "\n".join(lines)).strip()


def redact(text: str) -> str:
    return PHONE.sub(PLACEHOLDER_PHONE, EMAIL.sub(PLACEHOLDER_EMAIL, text))


def guess_intent(tags: Iterable[str]) -> str | None:
    names = [t.strip().lower() for t in tags]
    for name in names:
        if name in intents.names():
            return name
    for name in names:
        for hint, intent in _tag_hints().items():
            if hint in name:
                return intent
    return None


def _scalar(value: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar: every character is escaped safely.
    return json.dumps(value, ensure_ascii=False)


def _comment(text: str, width: int = 100) -> list[str]:
    flat = " ".join(text.split())
    chunks = [flat[i : i + width] for i in range(0, len(flat), width)] or [""]
    return [f"    # {chunk}" for chunk in chunks]


def case_id(ticket: JSON) -> str:
    raw = f"gorgias-{ticket.get('id', 'ticket')}".lower()
    return re.sub(r"[^a-z0-9_.-]+", "-", raw).strip("-") or "gorgias-ticket"


def draft_case(ticket: JSON, *, keep_personal_data: bool = False) -> str:
    """The draft case YAML for one ticket (it parses as a case file)."""
    clean = (lambda s: s) if keep_personal_data else redact
    messages = sorted(
        (m for m in ticket["messages"] if m.get("channel") != "internal-note"),
        key=lambda m: str(m.get("created_datetime") or ""),
    )
    tags = [str(t.get("name")) for t in ticket.get("tags") or [] if isinstance(t, dict)]
    subject = clean(str(ticket.get("subject") or "").strip())
    customer = ticket.get("customer") or {}
    lines = [
        f"# Draft imported from Gorgias ticket {ticket.get('id')}"
        + (f" ({ticket.get('created_datetime')})" if ticket.get("created_datetime") else ""),
        "# Before adding it to the suite: map the order number and email to an order of the seed",
        "# (or patch the world under `world.orders`), and write what a good answer must do under `expect`.",
    ]
    if customer.get("email") and keep_personal_data:
        lines.append(f"# The shopper wrote from {customer['email']}.")
    if tags:
        lines.append(f"# Ticket tags: {', '.join(tags)}")
    lines += [
        f"id: {case_id(ticket)}",
        f"description: {_scalar('Imported from Gorgias: ' + (subject or 'no subject'))}",
        "tags: [imported, draft]",
        "world:",
        "  seed: demo_store",
        "turns:",
    ]
    turns = 0
    pending_comments: list[str] = []
    for message in messages:
        text = clean(message_text(message))
        if not text:
            continue
        if message.get("from_agent"):
            sender = message.get("sender") or {}
            who = "the bot" if message.get("via") == "api" else (sender.get("name") or "the human agent")
            comment = f"{who} answered: {text}"
            if turns:
                lines.extend(_comment(comment))
            else:
                pending_comments.extend(_comment(comment))
            continue
        lines.extend(pending_comments)
        pending_comments = []
        lines.append(f"  - shopper: {_scalar(text)}")
        turns += 1
    if not turns:
        raise ValueError(f"ticket {ticket.get('id')!r} has no message from the shopper")
    intent = guess_intent(tags)
    expect = [f"  intent: {intent}"] if intent else []
    if "ai_handover" in tags:  # the bot handed this one over before
        expect.append("  handoff: true")
    lines.append("expect:" if expect else "expect: {}")
    lines += [
        "  # intent: wismo | returns | refunds | order_change | store_help | escalation | other",
        '  # tool_calls: [{name: get_tracking_status, args: {order_number: "1001"}}]',
        '  # must_say: ["..."]',
        "  # world: {refunds: [{order: 1001, amount: 10.00}]}",
        *expect,
    ]
    text = "\n".join(lines) + "\n"
    _validate(text)
    return text


def _validate(text: str) -> None:
    import yaml

    CaseFile.model_validate(yaml.safe_load(text))


def import_file(
    path: Path, out_dir: Path | None = None, *, keep_personal_data: bool = False
) -> list[tuple[str, str]]:
    """Draft cases for every ticket in an export file: `(case id, yaml)`; written to `out_dir`
    as `<case id>.yaml` when given (an existing file is never overwritten)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    drafts = [(case_id(t), draft_case(t, keep_personal_data=keep_personal_data)) for t in tickets_in(data)]
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for identifier, text in drafts:
            target = out_dir / f"{identifier}.yaml"
            if target.exists():
                raise FileExistsError(f"{target} exists: not overwriting a case")
            target.write_text(text, encoding="utf-8")
    return drafts
