"""Gorgias's published customer object, reduced.

Source: the Gorgias REST API reference, "The Customer object" (developers.gorgias.com/reference/
the-customer-object), its "Customer example object". Kept: the fields shown before its
`integrations` block, which is emptied (it holds raw Shopify orders). The example's email is obfuscated on the published
page, so a placeholder stands in for it.
"""

from __future__ import annotations

from typing import Any

CUSTOMER_EMAIL = "john@example.com"  # placeholder for the page's obfuscated address

CUSTOMER: dict[str, Any] = {
    "id": 3924,
    "created_datetime": "2019-04-13T03:27:56.973873",
    "data": {"city": "San Francisco"},
    "email": CUSTOMER_EMAIL,
    "external_id": "customer-84203241",
    "firstname": "John",
    "integrations": {},
}
