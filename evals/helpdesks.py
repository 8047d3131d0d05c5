"""The cases that exercise the helpdesk, to replay against every helpdesk the agent supports.

A case carrying one of `HELPDESK_TAGS` hands off, waits for an approval, is taken over, resumed or
closed by a person: `make eval` replays those once more per helpdesk (`HELPDESK=<name>`), so
each helpdesk's adapter, webhooks and emulator go through the same conversations.
"""

from __future__ import annotations

from collections.abc import Sequence

from evals.loading import LoadedCase

HELPDESK_TAGS = ("handoff", "approval", "human-takeover", "handback", "close")


def helpdesk_cases(cases: Sequence[LoadedCase]) -> list[LoadedCase]:
    return [loaded for loaded in cases if set(loaded.case.tags) & set(HELPDESK_TAGS)]
