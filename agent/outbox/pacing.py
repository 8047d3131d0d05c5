"""Spending a helpdesk account's API budget deliberately, across every server process.

Each helpdesk documents its budget (`integrations.budget.CallBudget`: Gorgias allows 40 calls per
20 s per account and says how much is used in `X-Gorgias-Account-Api-Call-Limit: n/40`; Zendesk a
plan's calls per minute, in `X-Rate-Limit` and `X-Rate-Limit-Remaining`). The pacer books one call slot per `window / (limit -
margin)` seconds in the database, so however many processes deliver, the account never sees a
burst over its limit; a 429's `Retry-After` holds every process back; a header announcing a
larger allowance (an account on a bigger plan, or the sandbox's lifted limit) speeds it up.

It is installed as httpx event hooks on the helpdesk's client, which only the outbox worker
uses: the shopper's turn never waits here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import httpx

from agent.outbox.db import OutboxDB
from integrations._http import parse_retry_after
from integrations.budget import Usage, used_of_allowed

logger = logging.getLogger(__name__)

# The default announcement (Gorgias's); each helpdesk's own comes with its `CallBudget`.
GORGIAS_USAGE = used_of_allowed("X-Gorgias-Account-Api-Call-Limit")


class CallPacer:
    """Books each request's slot before it is sent; reads the budget headers of each response."""

    def __init__(
        self,
        db: OutboxDB,
        account: str,
        *,
        limit: int = 40,
        window_seconds: float = 20.0,
        margin: int = 2,
        usage: Callable[[httpx.Headers], Usage] = GORGIAS_USAGE,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._db = db
        self.account = account
        self.limit = limit
        self.window = window_seconds
        self.margin = margin
        self._usage = usage
        self._clock = clock
        self._sleep = sleep
        self.calls = 0
        self.rate_limited = 0
        self.waited_seconds = 0.0

    @property
    def interval(self) -> float:
        """Seconds between two calls that keep the account within its window, with a margin."""
        return self.window / max(1, self.limit - self.margin)

    def install(self, client: httpx.AsyncClient) -> None:
        client.event_hooks["request"].append(self.before)
        client.event_hooks["response"].append(self.after)

    async def before(self, request: httpx.Request) -> None:
        slot = await self._db.reserve_call(self.account, self._clock(), self.interval)
        wait = slot - self._clock()
        if wait > 0:
            self.waited_seconds += wait
            await self._sleep(wait)
        self.calls += 1

    async def after(self, response: httpx.Response) -> None:
        used, allowed = self._usage(response.headers)
        if allowed is not None and allowed > 0 and allowed != self.limit:
            before = self.interval
            self.limit = allowed
            if self.interval < before:
                await self._db.ease_calls(self.account, self._clock() + self.interval)
        if response.status_code == 429:
            self.rate_limited += 1
            retry_after = parse_retry_after(response.headers.get("Retry-After")) or self.window / 2
            logger.warning("helpdesk rate limit reached (%s used); holding calls %.1f s", used, retry_after)
            await self._db.hold_calls(self.account, self._clock() + retry_after)
