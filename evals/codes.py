"""Reading a step-up code the way a shopper would: from the latest email in the sandbox outbox.

A case types the code with the placeholder `{code}` in a shopper turn (`shopper: "{code}"`), and
`{wrong_code}` for a code that is certainly not the one emailed.
"""

from __future__ import annotations

import re

from sandbox.world import World

CODE = "{code}"
WRONG_CODE = "{wrong_code}"
_DIGITS = re.compile(r"\b(\d{6})\b")


def latest_code(world: World) -> str | None:
    """The code in the newest verification email the store sent, if any."""
    for mail in reversed(world.sendgrid.outbox):
        if (mail.get("custom_args") or {}).get("kind") == "verification_code":
            found = _DIGITS.search(str(mail.get("text") or ""))
            return found.group(1) if found else None
    return None


def with_codes(text: str, world: World) -> str:
    """A shopper turn with `{code}` / `{wrong_code}` filled in from the outbox."""
    if CODE not in text and WRONG_CODE not in text:
        return text
    code = latest_code(world) or "000000"
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    return text.replace(CODE, code).replace(WRONG_CODE, wrong)
