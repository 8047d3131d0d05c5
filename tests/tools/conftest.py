"""Fixtures for the tool tests: the HTTP sandbox (one server per session, a fresh world per test),
the tools' services wired to it, and a harness that builds tool contexts and calls tools.

Retries never sleep here: every client gets the shared retry policy with a recording `sleep`, so
a test injecting vendor faults runs in milliseconds and can assert the waits it would have made.

`--update-snapshots` (run as `pytest tests/tools --update-snapshots`) rewrites the tool schema
snapshot from the current schemas instead of comparing against it.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import httpx
import pytest
from tenacity import AsyncRetrying

from agent.deps import build_services
from agent.settings import Settings
from demo.sandbox import sandbox_settings
from integrations._http import retrying
from integrations.gorgias.adapter import GorgiasHelpdesk
from integrations.shopify.adapter import ShopifyCommerce
from sandbox.vendors.shopify_graphql import configure_cost_bucket
from sandbox.world import JSON, World
from tests.conftest import LiveSandbox
from tools.context import ToolContext, ToolDeps, VerifiedCustomer
from tools.policy import StorePolicy
from tools.results import Refusal, ToolResult
from tools.spec import run_tool, spec_of

# The demo store's customers (sandbox/seeds/demo_store.json), by the order the table names them for.
EMAILS: dict[str, str] = {
    "1001": "ana.silva@example.com",
    "1002": "ben.okafor@example.com",
    "1003": "chloe.martin@example.com",
    "1004": "dev.patel@example.com",
    "1005": "emma.jones@example.com",
    "1006": "ana.silva@example.com",
    "1007": "farid.haddad@example.com",
    "1008": "ben.okafor@example.com",
    "1009": "grace.lee@example.com",
}


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every test client: httpx would load the CA bundle for each new client
    (about 30 ms a time), although the sandbox is plain HTTP on loopback."""
    return ssl.create_default_context()


def loopback_transport() -> httpx.AsyncHTTPTransport:
    return httpx.AsyncHTTPTransport(verify=tls_context())


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="Rewrite tests/tools/__snapshots__ from the current tool schemas instead of comparing.",
    )


@pytest.fixture
def update_snapshots(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-snapshots", default=False))


@dataclass
class SleepRecorder:
    """Stands in for `asyncio.sleep` in the retry policy: records the waits, waits for nothing."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)

    def policy(self) -> AsyncRetrying:
        return retrying(sleep=self)


@pytest.fixture
def sandbox(live_sandbox: LiveSandbox) -> Iterator[LiveSandbox]:
    """The HTTP sandbox holding this test's fresh world, without Shopify's GraphQL cost bucket."""
    configure_cost_bucket(live_sandbox.app, enabled=False)
    try:
        yield live_sandbox
    finally:
        configure_cost_bucket(live_sandbox.app)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@dataclass
class Harness:
    """Builds tool contexts on the sandbox-backed services and calls tools the way the graph does."""

    deps: ToolDeps
    commerce: ShopifyCommerce
    helpdesk: GorgiasHelpdesk
    sandbox: LiveSandbox
    sleeps: SleepRecorder

    @property
    def world(self) -> World:
        return self.sandbox.world

    def ctx(
        self,
        email: str | None = None,
        *,
        call: str = "call-1",
        conversation: str = "conv-1",
        ledger: dict[str, dict[str, Any]] | None = None,
        deps: ToolDeps | None = None,
        stepped_up: bool = True,
    ) -> ToolContext:
        """A context for one tool call; `email` makes the shopper verified (as state would hold it).

        `stepped_up` (the default) adds a fresh step-up for that email, as if the shopper had just
        typed the emailed code: tests of refunds, labels and changes test those rules; the step-up
        itself is tested in test_step_up.py."""
        customer = VerifiedCustomer(email=email) if email else None
        step_up = None
        if email and stepped_up:
            now = self.world.now().isoformat()
            step_up = {"verified_email": email.lower(), "verified_at": now, "codes_sent": 1}
        return ToolContext(
            deps=deps or self.deps,
            conversation_id=conversation,
            tool_call_id=call,
            customer=customer,
            ledger=ledger if ledger is not None else {},
            step_up=step_up,
        )

    def with_policy(self, **changes: Any) -> ToolDeps:
        """The same services under a different store policy."""
        return replace(self.deps, policy=StorePolicy(**changes))

    async def call(self, func: Callable[..., Any], ctx: ToolContext, **args: Any) -> ToolResult | Refusal:
        """Run a tool with raw (model-style) arguments through `run_tool`."""
        return await run_tool(spec_of(func), ctx, args)

    def order(self, number: int) -> JSON:
        order = self.world.order_by_number(number)
        assert order is not None, f"demo order #{number} missing from the seed"
        return order

    def shopify_refunds(self, number: int) -> list[JSON]:
        refunds: list[JSON] = self.order(number).get("refunds", [])
        return refunds

    def transactions(self, number: int) -> list[JSON]:
        order = self.order(number)
        rows: list[JSON] = self.world.shopify.transactions.get(order["id"], [])
        return rows

    def refund_transactions(self, number: int) -> list[JSON]:
        return [t for t in self.transactions(number) if t["kind"] == "refund"]

    def labels(self) -> list[JSON]:
        """Bought EasyPost shipments (return labels)."""
        return [s for s in self.world.easypost.shipments.values() if s.get("postage_label")]

    async def add_fault(self, **fault: Any) -> None:
        async with httpx.AsyncClient(base_url=self.sandbox.url, transport=loopback_transport()) as client:
            response = await client.post("/_sandbox/faults", json=fault)
            assert response.status_code == 201, response.text

    async def clear_faults(self) -> None:
        async with httpx.AsyncClient(base_url=self.sandbox.url, transport=loopback_transport()) as client:
            response = await client.delete("/_sandbox/faults")
            assert response.status_code == 200, response.text


@pytest.fixture
async def harness(sandbox: LiveSandbox, sleeps: SleepRecorder) -> AsyncIterator[Harness]:
    """The vendor adapters wired as `agent.deps.build_services` wires them, but with a retry policy
    that does not sleep and the demo store's default policy (whatever the environment says)."""
    settings = sandbox_settings(Settings(_env_file=None), sandbox.url)

    def clock() -> Any:
        return sandbox.world.now()

    async with AsyncExitStack() as stack:
        services = build_services(
            settings, stack, clock=clock, transport=loopback_transport(), retry_policy=sleeps.policy
        )
        deps = replace(services.tools, policy=StorePolicy())
        commerce, helpdesk = services.commerce, services.helpdesk
        yield Harness(deps=deps, commerce=commerce, helpdesk=helpdesk, sandbox=sandbox, sleeps=sleeps)
