"""Emulator of SendGrid's v3 Mail Send and Sender Identities (mounted at `/sendgrid/v3`), as the
official SDK calls them.

`POST /mail/send` with Bearer `SG....` auth: validates personalizations, from, subject and
content the way SendGrid does (400 with `{"errors": [{"message", "field", "help"}]}`), then
refuses a `from` that is not a verified Sender Identity nor on an authenticated domain with 403
and SendGrid's own words ("The from address does not match a verified Sender Identity..."),
else answers 202 with an empty body and an `X-Message-Id` header and appends the email to
`world.sendgrid.outbox`. `GET /verified_senders` and `GET /whitelabel/domains` list the sender
identities and domain authentications of the account, as SendGrid's published spec shapes them.
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


SENDER_IDENTITY_HELP = "https://sendgrid.com/docs/for-developers/sending-email/sender-identity/"
NOT_A_VERIFIED_SENDER = (
    "The from address does not match a verified Sender Identity. Mail cannot be sent until this error is "
    f"resolved. Visit {SENDER_IDENTITY_HELP} to see the Sender Identity requirements"
)


def may_send_as(world: World, address: str) -> bool:
    """A verified Sender Identity, or any address on an authenticated domain."""
    wanted = address.strip().lower()
    domain = wanted.rpartition("@")[2]
    return any(
        s.get("verified") and str(s.get("from_email", "")).lower() == wanted
        for s in world.sendgrid.verified_senders
    ) or any(
        d.get("valid") and str(d.get("domain", "")).lower() == domain
        for d in world.sendgrid.authenticated_domains
    )


@router.get("/verified_senders")
async def list_verified_senders(request: Request, world: WorldDep) -> JSON:
    """Every Sender Identity of the account, verified or not (`limit`, `id` filter as SendGrid's)."""
    senders = list(world.sendgrid.verified_senders)
    wanted = request.query_params.get("id")
    if wanted:
        senders = [s for s in senders if str(s.get("id")) == wanted]
    limit = request.query_params.get("limit")
    if limit and limit.isdigit():
        senders = senders[: int(limit)]
    return {"results": senders}


@router.get("/whitelabel/domains")
async def list_authenticated_domains(world: WorldDep) -> list[JSON]:
    return list(world.sendgrid.authenticated_domains)


@router.post("/mail/send")
async def send_mail(request: Request, world: WorldDep) -> Response:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return JSONResponse({"errors": [_error("Bad Request", None)]}, status_code=400)
    errors, parts = validate(body)
    if errors:
        return JSONResponse({"errors": errors}, status_code=400)
    if not may_send_as(world, str(parts["from"])):
        return JSONResponse({"errors": [_error(NOT_A_VERIFIED_SENDER, "from")]}, status_code=403)
    message_id = new_message_id(world)
    world.sendgrid.outbox.append({"message_id": message_id, **parts, "sent_at": world.now_iso()})
    return Response(status_code=202, headers={"X-Message-Id": message_id})
