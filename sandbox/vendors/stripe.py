"""Emulator of the Stripe API v1 (mounted at `/stripe/v1`), as the official SDK calls it.

Form-encoded bodies with bracketed keys (`metadata[order]=1001`), Bearer or Basic auth,
payment intents and charges from the seed, refunds that move the charge's `amount_refunded`,
Stripe's error bodies and codes (`amount_too_large`, `charge_already_refunded`,
`resource_missing`), Stripe's metadata limits (50 keys, 40-character keys, 500-character values;
beyond them a 400 naming `metadata[key]`), and idempotency: a POST's `Idempotency-Key` is stored with a fingerprint
of its parameters; the same key with the same parameters replays the first response
(`Idempotent-Replayed: true`), with different ones it is a 400 `idempotency_error`. As at
Stripe, a request rejected by validation stores nothing, so its key can be used again.
Every response carries a `Request-Id`.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any, NoReturn
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from integrations.stripe.models import (
    METADATA_MAX_KEY_CHARS,
    METADATA_MAX_KEYS,
    METADATA_MAX_VALUE_CHARS,
    ZERO_DECIMAL,
)
from sandbox.http import VendorHTTPError, WorldDep, require_stripe, vendor_error
from sandbox.world import JSON, World

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_KEY_PART = re.compile(r"\[([^\]]*)\]")


class StripeFailure(Exception):
    """A Stripe `invalid_request_error` with `code` and `param`, rendered in Stripe's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        kind: str = "invalid_request_error",
    ) -> None:
        self.status = status
        self.kind = kind
        self.message = message
        self.code = code
        self.param = param
        super().__init__(message)

    def body(self) -> JSON:
        error: JSON = {"type": self.kind, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def fail(status: int, message: str, *, code: str | None = None, param: str | None = None) -> NoReturn:
    raise StripeFailure(status, message, code=code, param=param)


class StripeRoute(APIRoute):
    """Adds `Request-Id` to every response and renders Stripe errors (auth ones included)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            response: Response
            try:
                response = await handler(request)
            except StripeFailure as exc:
                response = JSONResponse(exc.body(), status_code=exc.status)
            except VendorHTTPError as exc:
                response = vendor_error(
                    exc.vendor, exc.status, exc.message, code=exc.code, headers=exc.headers
                )
            response.headers["Request-Id"] = f"req_{uuid.uuid4().hex[:14]}"
            return response

        return route


router = APIRouter(route_class=StripeRoute, dependencies=[Depends(require_stripe)])


# --------------------------------------------------------------------------- form decoding


def decode_form(pairs: list[tuple[str, str]]) -> JSON:
    """`metadata[order]=1001&expand[0]=charge` -> `{"metadata": {"order": "1001"}, "expand": ["charge"]}`."""
    result: JSON = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        path = [head] + (_KEY_PART.findall("[" + rest) if rest else [])
        node: Any = result
        for index, part in enumerate(path):
            last = index == len(path) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    fail(400, f"Invalid value for {head}.", code="parameter_invalid", param=head)
    return {key: _lists(value) for key, value in result.items()}


def _lists(value: Any) -> Any:
    """Turn `{"0": a, "1": b}` (how Stripe encodes arrays) into `[a, b]`."""
    if isinstance(value, dict):
        converted = {key: _lists(item) for key, item in value.items()}
        if converted and all(key.isdigit() for key in converted):
            return [converted[key] for key in sorted(converted, key=int)]
        return converted
    return value


async def form_params(request: Request) -> JSON:
    if request.method == "GET":
        return decode_form(list(request.query_params.multi_items()))
    raw = (await request.body()).decode("utf-8", errors="replace")
    return decode_form(parse_qsl(raw, keep_blank_values=True))


def _sub_path(request: Request) -> str:
    """The path under `/v1` (the app may be mounted anywhere)."""
    return request.url.path.rsplit("/v1", 1)[-1]


def fingerprint(path: str, params: JSON) -> str:
    canonical = json.dumps({"path": path, "params": params}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_replay(request: Request, world: World, params: JSON) -> Response | None:
    """The stored response for a repeated key; None for a new (or absent) key."""
    key = request.headers.get("idempotency-key")
    if not key:
        return None
    stored = world.stripe.idempotency.get(key)
    if stored is None:
        return None
    if stored["fingerprint"] != fingerprint(_sub_path(request), params):
        raise StripeFailure(
            400,
            "Keys for idempotent requests can only be used with the same parameters they were first used "
            f"with. Try using a key other than '{key}' if you meant to execute a different request.",
            kind="idempotency_error",
        )
    return JSONResponse(stored["body"], status_code=stored["status"], headers={"Idempotent-Replayed": "true"})


def remember(request: Request, world: World, params: JSON, status: int, body: JSON) -> None:
    key = request.headers.get("idempotency-key")
    if key:
        world.stripe.idempotency[key] = {
            "fingerprint": fingerprint(_sub_path(request), params),
            "path": _sub_path(request),
            "status": status,
            "body": body,
            "created": int(world.now().timestamp()),
        }


# --------------------------------------------------------------------------- helpers


def missing(kind: str, object_id: str, param: str) -> NoReturn:
    fail(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def format_amount(cents: int, currency: str) -> str:
    if currency.lower() in ZERO_DECIMAL:
        return f"{cents} {currency.upper()}"
    value = Decimal(cents) / 100
    return f"${value:.2f}" if currency.lower() == "usd" else f"{value:.2f} {currency.upper()}"


def list_body(url: str, items: list[JSON], limit: int) -> JSON:
    return {"object": "list", "data": items[:limit], "has_more": len(items) > limit, "url": url}


def parse_limit(value: Any) -> int:
    try:
        limit = int(value) if value not in (None, "") else 10
    except (TypeError, ValueError):
        fail(400, "Invalid integer: limit", code="parameter_invalid_integer", param="limit")
    if not 1 <= limit <= 100:
        fail(400, "This value must be between 1 and 100.", code="parameter_invalid_integer", param="limit")
    return limit


# --------------------------------------------------------------------------- routes


@router.get("/payment_intents/{intent_id}")
async def get_payment_intent(intent_id: str, world: WorldDep) -> JSON:
    intent = world.stripe.payment_intents.get(intent_id)
    if intent is None:
        missing("payment_intent", intent_id, "intent")
    return intent


@router.get("/charges/{charge_id}")
async def get_charge(charge_id: str, world: WorldDep) -> JSON:
    charge = world.stripe.charges.get(charge_id)
    if charge is None:
        missing("charge", charge_id, "charge")
    return charge


@router.get("/refunds/{refund_id}")
async def get_refund(refund_id: str, world: WorldDep) -> JSON:
    refund = world.stripe.refunds.get(refund_id)
    if refund is None:
        missing("refund", refund_id, "refund")
    return refund


@router.get("/refunds")
async def list_refunds(request: Request, world: WorldDep) -> JSON:
    params = await form_params(request)
    refunds = sorted(world.stripe.refunds.values(), key=lambda r: (r["created"], r["id"]), reverse=True)
    if params.get("payment_intent"):
        refunds = [r for r in refunds if r.get("payment_intent") == params["payment_intent"]]
    if params.get("charge"):
        refunds = [r for r in refunds if r.get("charge") == params["charge"]]
    return list_body("/v1/refunds", refunds, parse_limit(params.get("limit")))


@router.post("/refunds")
async def create_refund(request: Request, world: WorldDep) -> Response:
    params = await form_params(request)
    replay = idempotent_replay(request, world, params)
    if replay is not None:
        return replay

    metadata = _metadata(params.get("metadata"))
    charge, intent_id = _refund_target(world, params)
    currency = charge["currency"]
    captured = int(charge.get("amount_captured") or charge["amount"])
    remaining = captured - int(charge.get("amount_refunded", 0))
    if remaining <= 0:
        fail(400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
    amount = _refund_amount(params.get("amount"), remaining)
    if amount > remaining:
        fail(
            400,
            f"Refund amount ({format_amount(amount, currency)}) is greater than unrefunded amount on charge "
            f"({format_amount(remaining, currency)})",
            code="amount_too_large",
            param="amount",
        )
    reason = params.get("reason") or None
    if reason is not None and reason not in REFUND_REASONS:
        fail(
            400,
            f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}",
            code="parameter_invalid_empty",
            param="reason",
        )
    refund_id = world.new_str_id("re")
    refund: JSON = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": "txn_" + refund_id.removeprefix("re_"),
        "charge": charge["id"],
        "created": int(world.now().timestamp()),
        "currency": currency,
        "customer": charge.get("customer"),
        "customer_account": None,
        "destination_details": {"type": "card", "card": {"type": "refund", "reference_status": "pending"}},
        "metadata": metadata,
        "payment_intent": intent_id,
        "payment_method": charge.get("payment_method"),
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    world.stripe.refunds[refund_id] = refund
    charge["amount_refunded"] = int(charge.get("amount_refunded", 0)) + amount
    charge["refunded"] = charge["amount_refunded"] >= captured
    if isinstance(charge.get("refunds"), dict):
        listed = charge["refunds"]
        listed["data"] = [refund, *listed.get("data", [])]
    remember(request, world, params, 200, refund)
    return JSONResponse(refund)


def _metadata(value: Any) -> dict[str, str]:
    """Validate `metadata[...]` as Stripe does: at most 50 keys, keys up to 40 characters, values
    up to 500; anything beyond is a 400 that names the parameter, and nothing is stored."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        fail(400, "Invalid object", code="parameter_invalid", param="metadata")
    if len(value) > METADATA_MAX_KEYS:
        fail(
            400,
            f"You can only specify up to {METADATA_MAX_KEYS} metadata keys, but you passed in {len(value)}.",
            param="metadata",
        )
    for key, item in value.items():
        if len(key) > METADATA_MAX_KEY_CHARS:
            fail(
                400,
                f"Metadata keys can have up to {METADATA_MAX_KEY_CHARS} characters, but you passed in a key "
                f"that is {len(key)} characters long.",
                param=f"metadata[{key}]",
            )
        if not isinstance(item, str):
            fail(400, "Invalid string", code="parameter_invalid", param=f"metadata[{key}]")
        if len(item) > METADATA_MAX_VALUE_CHARS:
            fail(
                400,
                f"Metadata values can have up to {METADATA_MAX_VALUE_CHARS} characters, but you passed in a "
                f"value that is {len(item)} characters long.",
                param=f"metadata[{key}]",
            )
    return {str(k): str(v) for k, v in value.items()}


def _refund_target(world: World, params: JSON) -> tuple[JSON, str | None]:
    intent_id = params.get("payment_intent") or None
    charge_id = params.get("charge") or None
    if intent_id is None and charge_id is None:
        fail(
            400,
            "One of the following params should be provided for this request: payment_intent or charge.",
            code="parameter_missing",
        )
    if intent_id is not None:
        intent = world.stripe.payment_intents.get(intent_id)
        if intent is None:
            missing("payment_intent", intent_id, "payment_intent")
        if intent.get("status") != "succeeded" or not intent.get("latest_charge"):
            fail(
                400,
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                code="charge_not_refundable",
                param="payment_intent",
            )
        charge_id = charge_id or intent["latest_charge"]
    assert charge_id is not None
    charge = world.stripe.charges.get(charge_id)
    if charge is None:
        missing("charge", charge_id, "charge")
    return charge, charge.get("payment_intent") or intent_id


def _refund_amount(value: Any, remaining: int) -> int:
    if value in (None, ""):
        return remaining
    try:
        amount = int(value)
    except (TypeError, ValueError):
        fail(400, f"Invalid integer: {value}", code="parameter_invalid_integer", param="amount")
    if amount < 1:
        fail(
            400,
            "This value must be greater than or equal to 1.",
            code="parameter_invalid_integer",
            param="amount",
        )
    return amount
