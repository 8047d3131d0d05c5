"""The Bitext customer-support data set, mapped onto our six intents.

Bitext (``<fixtures_dir>/bitext/{train,dev}.csv``, CDLA-Sharing-1.0) labels 27 intents of a
generic customer-service domain; its columns are ``utterance,intent,entity_type,...``. It has no
"return an item" intent, so it never produces ``returns`` examples: those come only from the
project's own utterances. The files are read in place and never copied into the repository.

How each Bitext intent maps, and why:

==========================  ==============  ==========================================================
Bitext intent               ours            reason
==========================  ==============  ==========================================================
track_order                 wismo           "status / ETA of order X" is the core WISMO question.
delivery_period             wismo           "when will my order / parcel arrive", about an order
                                            already placed; answered by looking up its tracking.
get_refund                  refunds         "I want my money back / a reimbursement".
track_refund                refunds         "I'm waiting for a refund of $160" = refund status.
check_refund_policy         refunds         "in which cases can I get a refund / how long do refunds
                                            take": mostly asked about an order under way; the own
                                            utterances teach ``store_help`` the policy questions.
cancel_order                order_change    cancel an order.
change_order                order_change    add, remove or swap items of an order before it ships.
change_shipping_address     order_change    "I entered a wrong delivery address": fix the address
                                            of an order.
contact_human_agent         escalation      an explicit ask for a person.
complaint                   escalation      a formal complaint / claim against the company goes
                                            to a human, never handled by the bot alone.
contact_customer_service    escalation      "how do I talk to / reach customer service" asked
                                            inside the support chat means "get me a human"; the
                                            handoff is also where the team's hours and email are
                                            given. Its phrasing is nearly identical to
                                            contact_human_agent, so splitting them would only
                                            teach the model noise.
delivery_options            store_help      "do you ship to Dublin / which shipping methods":
                                            the store's help pages answer it (issue #15).
place_order                 other           shopping help, out of scope.
check_payment_methods       store_help      store information, from the help pages.
check_invoice, get_invoice  other           billing documents, out of scope.
newsletter_subscription     other           marketing preferences, out of scope.
review                      other           leaving feedback or a product review.
create_account,             other           account management (password, sign-up, profile) is
delete_account,                             out of scope: the brief lists "account password"
edit_account,                               under ``other``.
switch_account,
recover_password,
registration_problems
check_cancellation_fee      dropped         "early termination / withdrawal penalty" is about a
                                            contract (other) but shares "cancellation fee" wording
                                            with order cancellations; either label would teach a
                                            wrong association, so it is left out.
payment_issue               dropped         "I have to report a payment issue": could be a double
                                            charge (refunds) or a failed checkout (other); the
                                            text does not say which.
set_up_shipping_address     dropped         "set up a new / secondary shipping address": an
                                            address-book task (other) worded almost exactly like
                                            change_shipping_address (order_change); mapping it to
                                            either class would blur the order_change boundary.
==========================  ==============  ==========================================================
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal

from agent.offline.nlu.intents import Intent, LabelledUtterance

BitextSplit = Literal["train", "dev"]

BITEXT_TO_INTENT: Final[Mapping[str, Intent | None]] = MappingProxyType(
    {
        "track_order": "wismo",
        "delivery_period": "wismo",
        "get_refund": "refunds",
        "track_refund": "refunds",
        "check_refund_policy": "refunds",
        "cancel_order": "order_change",
        "change_order": "order_change",
        "change_shipping_address": "order_change",
        "contact_human_agent": "escalation",
        "complaint": "escalation",
        "contact_customer_service": "escalation",
        "delivery_options": "store_help",
        "place_order": "other",
        "check_payment_methods": "store_help",
        "check_invoice": "other",
        "get_invoice": "other",
        "newsletter_subscription": "other",
        "review": "other",
        "create_account": "other",
        "delete_account": "other",
        "edit_account": "other",
        "switch_account": "other",
        "recover_password": "other",
        "registration_problems": "other",
        "check_cancellation_fee": None,
        "payment_issue": None,
        "set_up_shipping_address": None,
    }
)


def map_bitext_intent(label: str) -> Intent | None:
    """Our intent for a Bitext label, or ``None`` when the label is deliberately dropped.

    An unknown label raises ``ValueError``: a new data-set version should be mapped on purpose,
    not silently ignored.
    """
    try:
        return BITEXT_TO_INTENT[label]
    except KeyError:
        raise ValueError(f"unmapped Bitext intent {label!r}: add it to BITEXT_TO_INTENT") from None


def bitext_path(fixtures_dir: Path, split: BitextSplit) -> Path:
    """Where a Bitext split lives under the shared fixtures directory."""
    return fixtures_dir / "bitext" / f"{split}.csv"


def load_bitext(fixtures_dir: Path, split: BitextSplit) -> list[LabelledUtterance]:
    """Read one split and return its rows mapped to our intents, dropped labels left out.

    Raises ``FileNotFoundError`` when the file is absent; callers decide whether that is fatal.
    """
    path = bitext_path(fixtures_dir, split)
    examples: list[LabelledUtterance] = []
    # The utterances contain quoted commas, so the csv module (not str.split) is required.
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            intent = map_bitext_intent(row["intent"].strip())
            text = row["utterance"].strip()
            if intent is not None and text:
                examples.append(LabelledUtterance(text=text, intent=intent))
    return examples
