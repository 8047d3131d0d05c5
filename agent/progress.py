"""What the widget shows while a tool runs."""

from __future__ import annotations

PROGRESS = {
    "verify_customer": "Checking your details…",
    "lookup_order": "Looking up your order…",
    "get_tracking_status": "Checking the carrier's tracking…",
    "check_return_eligibility": "Checking what can be returned…",
    "create_return_label": "Creating your return label…",
    "check_refund_eligibility": "Checking your refund…",
    "issue_refund": "Processing your refund…",
    "cancel_order": "Cancelling your order…",
    "update_shipping_address": "Updating the shipping address…",
    "escalate_to_human": "Bringing in our support team…",
    "send_verification_code": "Emailing you a code…",
    "check_verification_code": "Checking the code…",
}
