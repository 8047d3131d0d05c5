"""Emulator of SendGrid's v3 Mail Send (mounted at `/sendgrid/v3`), as the official SDK calls it.

`POST /mail/send` with Bearer `SG....` auth: validates personalizations, from, subject and
content the way SendGrid does (400 with `{"errors": [{"message", "field", "help"}]}`), then
answers 202 with an empty body and an `X-Message-Id` header, and appends the email to
`world.sendgrid.outbox`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from sandbox.http import WorldDep, require_sendgrid
from sandbox.world import JSON, World

router = APIRouter(dependencies=[Depends(require_sendgrid)])

HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _error(message: str, field: str | None, anchor: str | None = None) -> JSON:
    return {"message": message, "field": field, "help": f"{HELP}#{anchor}" if anchor else None}


def _emails(value: Any, field: str, errors: list[JSON], *, required: bool) -> list[str]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or not value:
        errors.append(
            _error(
                f"The {field.rsplit('.', 1)[-1]} array is required for all personalizations, and "
                "must have at least one email object with a valid email address.",
                field,
                "message.personalizations.to",
            )
        )
        return []
    found = []
    for index, item in enumerate(value):
        email = item.get("email") if isinstance(item, dict) else None
        if not isinstance(email, str) or not _EMAIL.match(email):
            errors.append(
                _error(
                    "Does not contain a valid address.",
                    f"{field}.{index}.email",
                    "message.personalizations.to",
                )
            )
        else:
            found.append(email)
    return found


def validate(body: Any) -> tuple[list[JSON], JSON]:
    """SendGrid's field errors for a mail/send body, and the parts the outbox keeps."""
    errors: list[JSON] = []
    if not isinstance(body, dict):
        return [_error("Bad Request", None)], {}
    personalizations = body.get("personalizations")
    to: list[str] = []
    cc: list[str] = []
    bcc: list[str] = []
    every_has_subject = False
    if not isinstance(personalizations, list) or not personalizations:
        errors.append(
            _error(
                "The personalizations field is required and must have at least one personalization.",
                "personalizations",
                "-Personalizations-Errors",
            )
        )
    else:
        every_has_subject = all(isinstance(p, dict) and p.get("subject") for p in personalizations)
        for index, item in enumerate(personalizations):
            item = item if isinstance(item, dict) else {}
            to += _emails(item.get("to"), f"personalizations.{index}.to", errors, required=True)
            cc += _emails(item.get("cc"), f"personalizations.{index}.cc", errors, required=False)
            bcc += _emails(item.get("bcc"), f"personalizations.{index}.bcc", errors, required=False)
    sender = body.get("from")
    sender_email = sender.get("email") if isinstance(sender, dict) else None
    if not isinstance(sender_email, str) or not _EMAIL.match(sender_email):
        errors.append(
            _error(
                "The from object must be provided for every email send. It is an object that requires "
                "the email parameter, but may also contain a name parameter.",
                "from.email",
                "message.from",
            )
        )
    subject = body.get("subject")
    if not (isinstance(subject, str) and subject.strip()) and not every_has_subject:
        errors.append(
            _error(
                "The subject is required. You can get around this requirement if you use a template "
                "with a subject defined or if every personalization has a subject defined.",
                "subject",
                "message.subject",
            )
        )
    content = body.get("content")
    text = html = None
    if not body.get("template_id"):
        if not isinstance(content, list) or not content:
            errors.append(
                _error(
                    "Unless a valid template_id is provided, the content parameter is required. There "
                    "must be at least one defined content block.",
                    "content",
                    "message.content",
                )
            )
        else:
            for index, block in enumerate(content):
                block = block if isinstance(block, dict) else {}
                value = block.get("value")
                if not isinstance(value, str) or not value:
                    errors.append(
                        _error(
                            "The content value must be a string at least one character in length.",
                            f"content.{index}.value",
                            "message.content.value",
                        )
                    )
                if block.get("type") == "text/plain":
                    if index != 0:
                        errors.append(
                            _error(
                                "The text/plain content type must be first, followed by any other "
                                "content types.",
                                f"content.{index}.type",
                                "message.content.type",
                            )
                        )
                    text = value
                elif block.get("type") == "text/html":
                    html = value
                elif not isinstance(block.get("type"), str) or not block.get("type"):
                    errors.append(
                        _error(
                            "The content type cannot contain ';', or CRLF characters, and must be "
                            "at least one character in length.",
                            f"content.{index}.type",
                            "message.content.type",
                        )
                    )
    categories = body.get("categories") or []
    custom_args = body.get("custom_args") or {}
    parts: JSON = {
        "to": to,
        "cc": cc,
        "bcc": bcc,
        "from": sender_email,
        "from_name": sender.get("name") if isinstance(sender, dict) else None,
        "reply_to": (body.get("reply_to") or {}).get("email")
        if isinstance(body.get("reply_to"), dict)
        else None,
        "subject": subject if isinstance(subject, str) else None,
        "text": text,
        "html": html,
        "categories": [str(c) for c in categories] if isinstance(categories, list) else [],
        "custom_args": {str(k): str(v) for k, v in custom_args.items()}
        if isinstance(custom_args, dict)
        else {},
    }
    return errors, parts


def new_message_id(world: World) -> str:
    """A SendGrid-looking id (22 url-safe characters), deterministic for the same world."""
    digest = hashlib.sha256(f"sendgrid-message-{world.new_int_id()}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


@router.post("/mail/send")
async def send_mail(request: Request, world: WorldDep) -> Response:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return JSONResponse({"errors": [_error("Bad Request", None)]}, status_code=400)
    errors, parts = validate(body)
    if errors:
        return JSONResponse({"errors": errors}, status_code=400)
    message_id = new_message_id(world)
    world.sendgrid.outbox.append({"message_id": message_id, **parts, "sent_at": world.now_iso()})
    return Response(status_code=202, headers={"X-Message-Id": message_id})
