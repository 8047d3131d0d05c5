"""Zendesk's published API examples, reduced.

Sources, all from Zendesk's developer documentation (developer.zendesk.com):
- TICKET: "Tickets" API reference, "Show Ticket", its example response (`custom_fields` and
  `satisfaction_rating` dropped).
- COMMENTS: "Ticket Comments" API reference, "List Comments", its example response (the
  attachment's thumbnails and the `metadata.system` client string dropped).
- RATE_HEADERS: "Rate limits" API reference, "Monitoring your request activity", the headers of a
  Ticketing API list response.
- WEBHOOK_HEADERS: "Anatomy of a webhook request", its request headers (the signature there signs a
  body the page does not show, so tests sign their own bodies with `WEBHOOK_SIGNING_SECRET`).
- WEBHOOK_SIGNING_SECRET: "Verifying webhook authenticity", the signing secret of its example.
"""

from __future__ import annotations

from typing import Any

TICKET: dict[str, Any] = {
    "ticket": {
        "assignee_id": 235323,
        "collaborator_ids": [35334, 234],
        "created_at": "2009-07-20T22:55:29Z",
        "description": "The fire is very colorful.",
        "due_at": None,
        "external_id": "ahg35h3jh",
        "follower_ids": [35334, 234],
        "group_id": 98738,
        "has_incidents": False,
        "id": 35436,
        "organization_id": 509974,
        "priority": "high",
        "problem_id": 9873764,
        "raw_subject": "{{dc.printer_on_fire}}",
        "recipient": "support@company.com",
        "requester_id": 20978392,
        "sharing_agreement_ids": [84432],
        "status": "open",
        "subject": "Help, my printer is on fire!",
        "submitter_id": 76872,
        "tags": ["enterprise", "other_tag"],
        "type": "incident",
        "updated_at": "2011-05-05T10:38:52Z",
        "url": "https://company.zendesk.com/api/v2/tickets/35436.json",
        "via": {"channel": "web"},
    }
}

COMMENTS: dict[str, Any] = {
    "comments": [
        {
            "attachments": [
                {
                    "content_type": "text/plain",
                    "content_url": "https://company.zendesk.com/attachments/crash.log",
                    "file_name": "crash.log",
                    "id": 498483,
                    "size": 2532,
                }
            ],
            "author_id": 123123,
            "body": "Thanks for your help!",
            "created_at": "2009-07-20T22:55:29Z",
            "id": 1274,
            "metadata": {
                "system": {"ip_address": "1.1.1.1", "location": "Melbourne, 07, Australia"},
                "via": {"channel": "web", "source": {"from": {}, "rel": "web_widget", "to": {}}},
            },
            "public": True,
            "type": "Comment",
        }
    ]
}

RATE_HEADERS: dict[str, str] = {
    "x-rate-limit": "700",
    "ratelimit-limit": "700",
    "x-rate-limit-remaining": "699",
    "ratelimit-remaining": "699",
    "ratelimit-reset": "41",
}

WEBHOOK_HEADERS: dict[str, str] = {
    "x-zendesk-account-id": "123456",
    "x-zendesk-webhook-id": "01F1KRFQ6BG29CNWFR60NK5FNY",
    "x-zendesk-webhook-invocation-id": "8350205582",
    "x-zendesk-webhook-signature": "EiqWE3SXTPQpPulBV6OSuuGziIishZNc1VwNZYqZrHU=",
    "x-zendesk-webhook-signature-timestamp": "2021-03-25T05:09:27Z",
}

WEBHOOK_SIGNING_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
