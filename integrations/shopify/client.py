"""Shopify's GraphQL Admin API client: orders, refunds, notes, cancellation, addresses, webhooks, scopes.

It is handed an `httpx.AsyncClient` built by `shopify_graphql_http_client` (the endpoint
`{api_base}/{version}/graphql.json`, token header, timeout, optional transport), so production,
the in-process sandbox, mocks and cassettes go through the same code. Every operation is one
constant of `operations` with its answer's model beside it.

Shopify answers GraphQL with HTTP 200 even when it refuses: the body's `errors` (with
`extensions.code`) and a mutation's `userErrors` are mapped to the typed errors of
`integrations._http` here: `THROTTLED` is `RateLimited` with the wait the bucket needs (its
`throttleStatus` says how many points are missing and how fast they come back), `ACCESS_DENIED`
is an `AuthError` naming the scope, user errors are a `ShopifyUserError` (a `VendorError`) naming
the fields. Each answer's actual cost is logged at debug level.

Retries: reads go through the shared policy. A throttled call was not run, so it is always
repeated. Other writes are never blindly repeated; each is a unit of read-before-write the policy
may repeat as a whole: a note is appended only if its text is not already there (and checked
after writing), a refund carries a unique marker in its note and is looked up before it is sent
again, a cancellation re-reads the order, a webhook subscription is looked up before it is made.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying

from integrations._http import (
    AuthError,
    NotFound,
    RateLimited,
    RetryPolicyFactory,
    VendorError,
    build_async_client,
    json_body,
    raise_for_status,
    retrying,
    transport_error,
    with_retries,
)
from integrations.shopify import operations as ops
from integrations.shopify.models import API_VERSION_HEADER

VENDOR = "shopify"
AUTH_SETTING = "SHOPIFY_ACCESS_TOKEN"
# The newest stable version on 2026-12-03 (supported until at least 2027-10); a setting overrides it.
DEFAULT_API_VERSION = "2026-10"
ACCESS_TOKEN_HEADER = "X-Shopify-Access-Token"  # noqa: S105 (a header name)
REFUND_MARKER_PREFIX = "support-agent:"
CANCEL_JOB_POLLS = 10
CANCEL_JOB_POLL_SECONDS = 1.0
NOTE_WRITE_ATTEMPTS = 3
GRAPHQL_PATH = "graphql.json"

M = TypeVar("M", bound=BaseModel)

logger = logging.getLogger("integrations.shopify")


_TRAILING_VERSION = re.compile(r"/(?:\d{4}-\d{2}|unstable)/?$")


def admin_api_root(api_base: str) -> str:
    """`https://shop.myshopify.com/admin/api`, also from a base that still names a version."""
    return _TRAILING_VERSION.sub("", api_base.rstrip("/"))


def admin_api_url(api_base: str, api_version: str) -> str:
    """The versioned base: `https://shop.myshopify.com/admin/api/2026-10/`."""
    return f"{admin_api_root(api_base)}/{api_version}/"


def graphql_endpoint(api_base: str, api_version: str) -> str:
    """`https://shop.myshopify.com/admin/api/2026-10/graphql.json` (a version already at the end of
    `api_base`, as older settings wrote it, gives way to `api_version`)."""
    return admin_api_url(api_base, api_version) + GRAPHQL_PATH


def order_number_digits(number: str | int) -> str | None:
    """'#1234', '1234', 1234 -> '1234'; anything else (letters, empty, negative) -> None."""
    if isinstance(number, bool):
        return None
    text = str(number).strip().removeprefix("#").strip()
    return text if re.fullmatch(r"[0-9]{1,18}", text) else None


def shopify_graphql_http_client(
    api_base: str,
    access_token: str,
    *,
    api_version: str = DEFAULT_API_VERSION,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The HTTP client for one store's GraphQL Admin endpoint."""
    # The versioned admin root is the base (httpx ends a base URL with "/"); calls post to graphql.json.
    return build_async_client(
        admin_api_url(api_base, api_version),
        headers={ACCESS_TOKEN_HEADER: access_token, "Accept": "application/json"},
        transport=transport,
    )


class ShopifyUserError(VendorError):
    """A mutation's `userErrors`: Shopify refused the change. `fields` names what it objected to."""

    def __init__(self, operation: str, errors: Sequence[ops.UserError]) -> None:
        self.fields = [".".join(e.field) for e in errors if e.field]
        self.codes = [e.code for e in errors if e.code]
        detail = "; ".join(f"{'.'.join(e.field)}: {e.message}" if e.field else e.message for e in errors)
        super().__init__(VENDOR, f"{operation} refused: {detail}", status=422)


def _says_already_cancelled(message: str) -> bool:
    text = message.lower()
    return "already" in text and ("cancelled" in text or "canceled" in text)


class ShopifyGraphQLClient:
    """Async client of the Shopify GraphQL Admin API. Raises only the typed errors of `_http`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        retry_policy: RetryPolicyFactory | None = None,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._http = http
        self._policy_factory: RetryPolicyFactory = retry_policy or retrying
        self._clock = clock or (lambda: datetime.now(UTC))
        self._sleep = sleep
        self._note_locks: dict[int, asyncio.Lock] = {}
        self.served_api_version: str | None = None
        """The version Shopify last answered with (`X-Shopify-API-Version`)."""
        self.last_cost: dict[str, Any] | None = None
        """`extensions.cost` of the last answer."""

    def now(self) -> datetime:
        """The client's clock (the world's in the sandbox)."""
        return self._clock()

    @property
    def api_version(self) -> str:
        """The version this client asks for (the last segment of its base URL)."""
        return self._http.base_url.path.rstrip("/").rsplit("/", 1)[-1]

    # ------------------------------------------------------------------ plumbing

    def _policy(self) -> AsyncRetrying:
        return self._policy_factory()

    def _note_version(self, response: httpx.Response) -> None:
        served = response.headers.get(API_VERSION_HEADER)
        if not served or served == self.served_api_version:
            return
        self.served_api_version = served
        if served != self.api_version:
            logger.warning(
                "Shopify answered with API version %s, not the %s asked for: Shopify no longer supports "
                "%s and serves it with its oldest supported version. Set SHOPIFY_API_VERSION to a "
                "supported version.",
                served,
                self.api_version,
                self.api_version,
            )

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one operation once: its `data`, or a typed error for what Shopify refused."""
        payload = {"query": query, "variables": variables or {}}
        try:
            response = await self._http.post(GRAPHQL_PATH, json=payload)
        except httpx.HTTPError as exc:
            raise transport_error(VENDOR, exc) from None
        self._note_version(response)
        if response.status_code == 400:
            raise VendorError(VENDOR, f"HTTP 400 on graphql.json: {response.text[:200]}", status=400)
        raise_for_status(VENDOR, response, auth_setting=AUTH_SETTING)
        body = json_body(VENDOR, response)
        if not isinstance(body, dict):
            raise VendorError(VENDOR, "unexpected GraphQL answer: not an object")
        cost = (body.get("extensions") or {}).get("cost")
        if isinstance(cost, dict):
            self.last_cost = cost
            status = cost.get("throttleStatus") or {}
            logger.debug(
                "shopify graphql cost: requested %s, actual %s, %s of %s points left",
                cost.get("requestedQueryCost"),
                cost.get("actualQueryCost"),
                status.get("currentlyAvailable"),
                status.get("maximumAvailable"),
            )
        errors = body.get("errors")
        if errors:
            self._raise_for_errors(errors, cost if isinstance(cost, dict) else None)
        data = body.get("data")
        if not isinstance(data, dict):
            raise VendorError(VENDOR, "unexpected GraphQL answer: no data")
        return data

    @staticmethod
    def _raise_for_errors(errors: Any, cost: dict[str, Any] | None) -> None:
        if not isinstance(errors, list):  # `{"errors": "..."}`: Shopify's non-GraphQL error shape
            raise VendorError(VENDOR, f"GraphQL request refused: {str(errors)[:200]}")
        codes = [((e.get("extensions") or {}).get("code"), e) for e in errors if isinstance(e, dict)]
        for code, error in codes:
            if code == "THROTTLED" or error.get("message") == "Throttled":  # older answers lack the code
                raise RateLimited(
                    VENDOR, "GraphQL cost limit reached (THROTTLED)", retry_after=_restore_wait(cost)
                )
            if code == "ACCESS_DENIED":
                required = str((error.get("extensions") or {}).get("requiredAccess") or "")
                scope = required.split("`")[1] if required.count("`") >= 2 else required or "a scope"
                raise AuthError(
                    VENDOR,
                    f"the token lacks the {scope} scope ({error.get('message')})",
                    setting=AUTH_SETTING,
                    status=403,
                )
        messages = "; ".join(str(e.get("message")) for _, e in codes) or str(errors)[:200]
        retryable = any(code == "INTERNAL_SERVER_ERROR" for code, _ in codes)
        raise VendorError(VENDOR, f"GraphQL errors: {messages}", retryable=retryable)

    @staticmethod
    def _parse(model: type[M], data: Any, what: str) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in error["loc"]) for error in exc.errors()[:3])
            raise VendorError(VENDOR, f"unexpected {what} answer (fields: {fields})") from None

    async def _query(self, model: type[M], query: str, variables: dict[str, Any] | None = None) -> M:
        """A read under the retry policy."""
        data = await with_retries(
            lambda: self.execute(query, variables), idempotent=True, policy=self._policy()
        )
        return self._parse(model, data, model.__name__)

    async def _once(self, model: type[M], query: str, variables: dict[str, Any] | None = None) -> M:
        """One operation, repeated only while throttled (a throttled call was not run)."""
        async for attempt in self._throttle_policy():
            with attempt:
                return self._parse(model, await self.execute(query, variables), model.__name__)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    def _throttle_policy(self) -> AsyncRetrying:
        policy = self._policy()
        only_throttled = policy.copy(retry=lambda state: isinstance(
            state.outcome.exception() if state.outcome else None, RateLimited
        ))  # fmt: skip
        return only_throttled

    async def _retried_unit(self, unit: Callable[[bool], Awaitable[M]]) -> M:
        """Run a read-before-write unit under the retry policy; `unit(retry)` knows if it is a retry."""
        attempts = 0

        async def once() -> M:
            nonlocal attempts
            attempts += 1
            return await unit(attempts > 1)

        return await with_retries(once, idempotent=True, policy=self._policy())

    # ------------------------------------------------------------------ orders

    async def get_order(self, order_id: int | str) -> ops.Order:
        """The order by id (`NotFound` when the store has none, or the token may not see it)."""
        answer = await self._query(ops.OrderAnswer, ops.ORDER_QUERY, {"id": ops.to_gid("Order", order_id)})
        if answer.order is None:
            raise NotFound(VENDOR, f"order {order_id} not found", status=404)
        return answer.order

    async def _get_order_once(self, order_id: int | str) -> ops.Order:
        answer = self._parse(
            ops.OrderAnswer,
            await self.execute(ops.ORDER_QUERY, {"id": ops.to_gid("Order", order_id)}),
            "order",
        )
        if answer.order is None:
            raise NotFound(VENDOR, f"order {order_id} not found", status=404)
        return answer.order

    async def search_orders(self, query: str, *, first: int = 10) -> list[ops.OrderSummary]:
        """Orders matching Shopify's search syntax, newest first (ids, names, emails)."""
        answer = await self._query(
            ops.FindOrdersAnswer, ops.FIND_ORDERS_QUERY, {"query": query, "first": max(1, min(first, 250))}
        )
        return answer.orders.nodes

    async def find_order_by_number(self, number: str | int, *, email: str | None = None) -> ops.Order | None:
        """The order shoppers call '#1234' (also '1234'), with `email` when given; None when absent.

        Searched with `name:` (and `email:`), then only an exact number (and email) counts, whatever
        looser matching the search does.
        """
        digits = order_number_digits(number)
        if digits is None:
            return None
        query = f"name:{ops.search_value('#' + digits)}"
        if email:
            query += f" email:{ops.search_value(email.strip())}"
        for summary in await self.search_orders(query, first=10):
            if summary.number != int(digits):
                continue
            if email and (summary.email or "").lower() != email.strip().lower():
                continue
            return await self.get_order(summary.id)
        return None

    async def orders_by_email(self, email: str, limit: int = 10) -> list[ops.Order]:
        """The customer's orders (any status), newest first, at most `limit`; exact email only."""
        email = email.strip()
        if not email or limit <= 0:
            return []
        summaries = await self.search_orders(f"email:{ops.search_value(email)}", first=limit)
        exact = [s for s in summaries if (s.email or "").lower() == email.lower()][:limit]
        return [await self.get_order(s.id) for s in exact]

    async def oldest_visible_order(self) -> ops.OrderSummary | None:
        """The oldest order this token can see (without `read_all_orders`: of the last 60 days)."""
        answer = await self._query(ops.FindOrdersAnswer, ops.OLDEST_ORDER_QUERY)
        return answer.orders.nodes[0] if answer.orders.nodes else None

    async def get_product_tags(self, product_id: int | str) -> list[str]:
        answer = await self._query(
            ops.ProductTagsAnswer, ops.PRODUCT_TAGS_QUERY, {"id": ops.to_gid("Product", product_id)}
        )
        return answer.product.tags if answer.product is not None else []

    # ------------------------------------------------------------------ the note

    async def append_order_note(self, order_id: int | str, text: str) -> ops.OrderNote:
        """Add a timestamped line to the order note, keeping what is there (`orderUpdate` replaces it).

        GraphQL has no conditional update, so the read-modify-write is guarded twice: writers in this
        process take turns (a lock per order), and after writing the note is read back; if another
        writer replaced it meanwhile (our line is gone, or what we kept is), the unit runs again on
        the note as it is now. Safe to retry: a line whose text is already there is not added again.
        """
        text = text.strip()
        line = f"[{self._clock().strftime('%Y-%m-%d %H:%M UTC')}] {text}"
        order_gid = ops.to_gid("Order", order_id)
        lock = self._note_locks.setdefault(ops.legacy_id(order_gid), asyncio.Lock())

        async def read() -> ops.OrderNote:
            answer = self._parse(ops.OrderNoteAnswer, await self.execute(ops.ORDER_NOTE_QUERY, {"id": order_gid}), "note")  # fmt: skip
            if answer.order is None:
                raise NotFound(VENDOR, f"order {order_id} not found", status=404)
            return answer.order

        async def unit(_: bool) -> ops.OrderNote:
            for _attempt in range(NOTE_WRITE_ATTEMPTS):
                current = await read()
                before = current.note or ""
                if not text or text in before:
                    return current
                note = f"{before.rstrip()}\n{line}" if before.strip() else line
                answer = await self._once(
                    ops.OrderNoteUpdateAnswer,
                    ops.ORDER_NOTE_UPDATE,
                    {"input": {"id": order_gid, "note": note}},
                )
                payload = answer.order_update
                if payload is None or payload.user_errors:
                    raise ShopifyUserError("orderUpdate", payload.user_errors if payload else [])
                after = (await read()).note or ""
                if text in after and before.rstrip() in after:
                    return ops.OrderNote(id=order_gid, note=after)
                logger.warning("the note of order %s changed while we wrote it; writing again", order_id)
            raise VendorError(VENDOR, f"the note of order {order_id} kept changing while we wrote it")

        async with lock:
            return await self._retried_unit(unit)

    # ------------------------------------------------------------------ the shipping address

    async def update_shipping_address(self, order_id: int | str, address: dict[str, Any]) -> ops.Order:
        """Change where an unfulfilled order ships (`ShopifyUserError` once fulfilled).

        `address` is a `MailingAddressInput`. Retried: it sets absolute values, so repeating it
        changes nothing more.
        """
        order_gid = ops.to_gid("Order", order_id)
        variables = {"input": {"id": order_gid, "shippingAddress": address}}

        async def once() -> ops.OrderAddressUpdateAnswer:
            return self._parse(
                ops.OrderAddressUpdateAnswer, await self.execute(ops.ORDER_ADDRESS_UPDATE, variables), "orderUpdate"
            )  # fmt: skip

        answer = await with_retries(once, idempotent=True, policy=self._policy())
        payload = answer.order_update
        if payload is None or payload.user_errors or payload.order is None:
            raise ShopifyUserError("orderUpdate", payload.user_errors if payload else [])
        return await self.get_order(order_gid)

    # ------------------------------------------------------------------ refunds

    async def suggest_refund(
        self,
        order_id: int | str,
        *,
        line_items: Sequence[tuple[int, int]] | None = None,
        shipping_full: bool = False,
    ) -> ops.SuggestedRefund:
        """Ask Shopify what to refund, and from which payments (several for split payments).

        `line_items` is `(line_item_id, quantity)` pairs; None means every unit still refundable,
        `[]` no items (a refund by amount); `shipping_full` adds the shipping still refundable.
        """
        order_gid = ops.to_gid("Order", order_id)
        if line_items is None:
            order = await self.get_order(order_gid)
            line_items = sorted(order.refundable_quantities().items())
        variables = {
            "id": order_gid,
            "refundLineItems": [
                {"lineItemId": ops.to_gid("LineItem", line), "quantity": int(quantity)}
                for line, quantity in line_items
            ],
            "refundShipping": shipping_full,
        }
        answer = await self._query(ops.SuggestedRefundAnswer, ops.SUGGESTED_REFUND_QUERY, variables)
        if answer.order is None:
            raise NotFound(VENDOR, f"order {order_id} not found", status=404)
        if answer.order.suggested_refund is None:
            raise VendorError(VENDOR, f"Shopify suggested no refund for order {order_id}")
        return answer.order.suggested_refund

    async def list_refunds(self, order_id: int | str) -> list[ops.Refund]:
        answer = await self._query(
            ops.OrderRefundsAnswer, ops.ORDER_REFUNDS_QUERY, {"id": ops.to_gid("Order", order_id)}
        )
        if answer.order is None:
            raise NotFound(VENDOR, f"order {order_id} not found", status=404)
        return answer.order.refunds

    @staticmethod
    def refund_transactions(
        order_gid: str, suggestion: ops.SuggestedRefund, amount: Decimal | None
    ) -> list[dict[str, Any]]:
        """The suggested transactions as `REFUND`s against their parents; a custom `amount` is split
        over them in order, each taking at most what its payment has left."""
        chosen: list[tuple[ops.SuggestedTransaction, Decimal]] = []
        if amount is None:
            chosen = [(t, t.amount) for t in suggestion.suggested_transactions if t.amount > 0]
        else:
            left = amount
            for transaction in suggestion.suggested_transactions:
                take = min(transaction.maximum_refundable, left)
                if take > 0:
                    chosen.append((transaction, take))
                    left -= take
            if left > 0:
                raise VendorError(
                    VENDOR,
                    f"refund of {amount} exceeds the {suggestion.maximum_refundable} still refundable",
                    status=422,
                )
        return [
            {
                "orderId": order_gid,
                "parentId": t.parent_transaction.id if t.parent_transaction else None,
                "amount": f"{value:.2f}",
                "kind": "REFUND",
                "gateway": t.gateway or "",
            }
            for t, value in chosen
        ]

    async def create_refund(
        self,
        order_id: int | str,
        suggestion: ops.SuggestedRefund,
        *,
        note: str,
        notify: bool = False,
        amount: Decimal | None = None,
        idempotency_key: str | None = None,
        restock: bool = False,
    ) -> ops.Refund:
        """Refund what `suggestion` named, over every payment it named (or a custom `amount`).

        The note carries a unique marker (`[support-agent:<key>]`): before any retry, and before the
        first try when a key is given, the order's refunds are read and one already carrying the
        marker is returned instead of refunding twice.
        """
        if amount is not None and amount <= 0:
            raise VendorError(VENDOR, f"refund amount must be positive, got {amount}", status=422)
        order_gid = ops.to_gid("Order", order_id)
        transactions = self.refund_transactions(order_gid, suggestion, amount)
        shipping = suggestion.shipping.amount_set.amount if amount is None else Decimal("0")
        if not transactions and not suggestion.refund_line_items:
            raise VendorError(VENDOR, f"nothing left to refund on order {order_id}", status=422)
        marker = f"[{REFUND_MARKER_PREFIX}{idempotency_key or uuid.uuid4().hex[:16]}]"
        refund_input: dict[str, Any] = {
            "orderId": order_gid,
            "note": f"{note.strip()} {marker}".strip(),
            "notify": notify,
            "refundLineItems": [
                {
                    "lineItemId": item.line_item.id,
                    "quantity": item.quantity,
                    "restockType": "RETURN" if restock else "NO_RESTOCK",
                }
                for item in suggestion.refund_line_items
            ],
            "transactions": transactions,
        }
        if shipping > 0:
            refund_input["shipping"] = {"amount": f"{shipping:.2f}"}

        async def existing() -> ops.Refund | None:
            answer = self._parse(ops.OrderRefundsAnswer, await self.execute(ops.ORDER_REFUNDS_QUERY, {"id": order_gid}), "refunds")  # fmt: skip
            for refund in answer.order.refunds if answer.order else []:
                if marker in (refund.note or ""):
                    return refund
            return None

        async def unit(retry: bool) -> ops.Refund:
            if retry or idempotency_key:
                found = await existing()
                if found is not None:
                    return found
            answer = await self._once(ops.RefundCreateAnswer, ops.REFUND_CREATE, {"input": refund_input})
            payload = answer.refund_create
            if payload is None or payload.user_errors or payload.refund is None:
                raise ShopifyUserError("refundCreate", payload.user_errors if payload else [])
            return payload.refund

        return await self._retried_unit(unit)

    # ------------------------------------------------------------------ cancellation

    async def cancel_order(
        self,
        order_id: int | str,
        *,
        reason: str = "CUSTOMER",
        refund: bool,
        restock: bool = True,
        notify: bool = False,
        staff_note: str | None = None,
    ) -> ops.Order:
        """Cancel an unfulfilled order (refunding what is refundable when `refund`) and wait for it.

        `orderCancel` starts a background job: its `job { done }` is polled (at most
        CANCEL_JOB_POLLS times) and the order read again once it is done. A refusal (fulfilled,
        already cancelled) is a `ShopifyUserError`. After an ambiguous failure the order is re-read
        first: already cancelled means the lost attempt went through, a success.
        """
        order_gid = ops.to_gid("Order", order_id)
        variables = {
            "orderId": order_gid,
            "reason": reason.upper(),
            "refund": refund,
            "restock": restock,
            "notifyCustomer": notify,
            "staffNote": staff_note,
        }

        async def unit(retry: bool) -> ops.Job | None:
            if retry and (await self._get_order_once(order_gid)).is_cancelled:
                return None
            answer = await self._once(ops.OrderCancelAnswer, ops.ORDER_CANCEL, variables)
            payload = answer.order_cancel
            errors = (payload.order_cancel_user_errors or payload.user_errors) if payload else []
            if payload is None or errors or payload.job is None:
                if retry and any(_says_already_cancelled(e.message) for e in errors):
                    return None
                raise ShopifyUserError("orderCancel", errors)
            return payload.job

        job = await self._retried_unit_optional(unit)
        if job is not None:
            await self.wait_for_job(job)
        return await self.get_order(order_gid)

    async def _retried_unit_optional(
        self, unit: Callable[[bool], Awaitable[ops.Job | None]]
    ) -> ops.Job | None:
        attempts = 0

        async def once() -> ops.Job | None:
            nonlocal attempts
            attempts += 1
            return await unit(attempts > 1)

        return await with_retries(once, idempotent=True, policy=self._policy())

    async def wait_for_job(self, job: ops.Job) -> ops.Job:
        """Poll a background job until it is done (`VendorError` when it is still running)."""
        for poll in range(CANCEL_JOB_POLLS):
            if job.done:
                return job
            if poll:
                await self._sleep(CANCEL_JOB_POLL_SECONDS)
            answer = await self._query(ops.JobAnswer, ops.JOB_QUERY, {"id": job.id})
            if answer.job is None:
                raise NotFound(VENDOR, f"job {job.id} not found", status=404)
            job = answer.job
        if job.done:
            return job
        raise VendorError(VENDOR, f"Shopify's job {job.id} is still running", retryable=False)

    # ------------------------------------------------------------------ scopes

    async def access_scopes(self) -> list[str]:
        """The scopes granted to the token (`currentAppInstallation.accessScopes`)."""
        answer = await self._query(ops.AccessScopesAnswer, ops.ACCESS_SCOPES_QUERY)
        return [scope.handle for scope in answer.current_app_installation.access_scopes]

    # ------------------------------------------------------------------ webhooks

    async def list_webhooks(self, *, topic: str | None = None, uri: str | None = None) -> list[ops.WebhookSubscription]:  # fmt: skip
        """Subscriptions (all pages), optionally of one topic (`orders/updated`) and address."""
        found: list[ops.WebhookSubscription] = []
        after: str | None = None
        for _ in range(20):
            variables: dict[str, Any] = {"first": 100, "after": after, "uri": uri}
            if topic:
                variables["topics"] = [ops.topic_enum(topic)]
            answer = await self._query(
                ops.WebhookSubscriptionsAnswer, ops.WEBHOOK_SUBSCRIPTIONS_QUERY, variables
            )
            page = answer.webhook_subscriptions
            found.extend(page.nodes)
            if not page.page_info.has_next_page:
                break
            after = page.page_info.end_cursor
        return found

    async def register_webhook(self, topic: str, address: str) -> ops.WebhookSubscription:
        """Subscribe `address` to `topic` (e.g. orders/updated); a no-op when already subscribed."""

        async def unit(_: bool) -> ops.WebhookSubscription:
            for hook in await self.list_webhooks(topic=topic, uri=address):
                if hook.uri == address and hook.topic == ops.topic_enum(topic):
                    return hook
            answer = await self._once(
                ops.WebhookSubscriptionCreateAnswer,
                ops.WEBHOOK_SUBSCRIPTION_CREATE,
                {"topic": ops.topic_enum(topic), "webhookSubscription": {"uri": address, "format": "JSON"}},
            )
            payload = answer.webhook_subscription_create
            if payload is None or payload.user_errors or payload.webhook_subscription is None:
                raise ShopifyUserError("webhookSubscriptionCreate", payload.user_errors if payload else [])
            return payload.webhook_subscription

        return await self._retried_unit(unit)

    async def delete_webhook(self, subscription_id: str | int) -> None:
        """Remove a subscription (`NotFound` when there is none with that id)."""
        answer = await self._once(
            ops.WebhookSubscriptionDeleteAnswer,
            ops.WEBHOOK_SUBSCRIPTION_DELETE,
            {"id": ops.to_gid("WebhookSubscription", subscription_id)},
        )
        payload = answer.webhook_subscription_delete
        if payload is None or payload.user_errors:
            errors = payload.user_errors if payload else []
            raise NotFound(VENDOR, "; ".join(e.message for e in errors) or "no such subscription", status=404)


def _restore_wait(cost: dict[str, Any] | None) -> float | None:
    """Seconds until the bucket holds the points the throttled query asked for."""
    if not cost:
        return None
    status = cost.get("throttleStatus") or {}
    try:
        needed = float(cost.get("requestedQueryCost") or 0) - float(status.get("currentlyAvailable") or 0)
        rate = float(status.get("restoreRate") or 0)
    except (TypeError, ValueError):
        return None
    if rate <= 0:
        return None
    return max(0.0, math.ceil(needed / rate * 100) / 100)  # never a hundredth too early
