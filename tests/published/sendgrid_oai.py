"""SendGrid's published API description, reduced.

Source: sendgrid/sendgrid-oai @ bef1536 (MIT): `spec/paths/sender_verification/sender_verification.json`
("Get All Verified Senders", its response example, kept whole) and `oai_v3_stoplight.json` (the
status-code table of the API overview, whose 403 row is quoted).
"""

from __future__ import annotations

from typing import Any

VERIFIED_SENDERS: dict[str, Any] = {
    "results": [
        {
            "id": 1234,
            "nickname": "Example Orders",
            "from_email": "orders@example.com",
            "from_name": "Example Orders",
            "reply_to": "orders@example.com",
            "reply_to_name": "Example Orders",
            "address": "1234 Fake St.",
            "address2": "PO Box 1234",
            "state": "CA",
            "city": "San Francisco",
            "country": "USA",
            "zip": "94105",
            "verified": True,
            "locked": False,
        },
        {
            "id": 1235,
            "nickname": "Example Support",
            "from_email": "support@example.com",
            "from_name": "Example Support",
            "reply_to": "support@example.com",
            "reply_to_name": "Example Support",
            "address": "1234 Fake St.",
            "address2": "PO Box 1234",
            "state": "CA",
            "city": "San Francisco",
            "country": "USA",
            "zip": "94105",
            "verified": True,
            "locked": False,
        },
    ]
}

# The overview's status codes: "403 | From address doesn't match Verified Sender Identity."
STATUS_403 = "From address doesn't match Verified Sender Identity."
