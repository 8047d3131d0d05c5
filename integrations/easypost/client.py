"""EasyPost through its official SDK: return labels and parcel tracking.

Every SDK call runs in a worker thread (`integrations._sdk.call_sdk`). Reads and tracker
creation are retried (EasyPost returns the existing tracker for a code it already tracks);
buying postage never is.

Return labels and double purchase: the shipment carries a `reference` derived from the
caller's idempotency reference, and EasyPost accepts a reference in place of an id
(`GET /shipments/{reference}`). `buy_return_label` first looks the reference up: a shipment
already bought is returned as it is, one created but not bought is bought, and only when none
exists is a new one created. The lookup runs before every creation attempt, so retrying the
creation cannot leave two shipments; the buy call itself is sent once, and a caller that saw it
fail may simply call again: the lookup tells whether the label was bought after all.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from easypost.easypost_client import EasyPostClient
from easypost.errors.api.api_error import ApiError
from easypost.errors.api.forbidden_error import ForbiddenError
from easypost.errors.api.http_error import HttpError
from easypost.errors.api.json_error import JsonError
from easypost.errors.api.not_found_error import NotFoundError
from easypost.errors.api.rate_limit_error import RateLimitError
from easypost.errors.api.timeout_error import TimeoutError as EasyPostTimeoutError
from easypost.errors.api.unauthorized_error import UnauthorizedError
from easypost.errors.general.easypost_error import EasyPostError
from requests.adapters import HTTPAdapter

from integrations._http import (
    IntegrationError,
    RetryPolicyFactory,
    VendorError,
    parse_retry_after,
)
from integrations._sdk import call_sdk, could_not_connect, error_for_status, malformed, timed_out
from integrations.easypost.models import (
    Address,
    EasyPostRate,
    EasyPostShipment,
    EasyPostTracker,
    Parcel,
    ReturnLabel,
    TrackingInfo,
)

T = TypeVar("T")

VENDOR = "easypost"
AUTH_SETTING = "EASYPOST_API_KEY"
DEFAULT_API_BASE = "https://api.easypost.com/v2"

_SAFE_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")


def shipment_reference(idempotency_reference: str) -> str:
    """The EasyPost `reference` for a caller's idempotency reference: URL-safe and stable.

    It goes into a URL path (`/shipments/{reference}`), so anything but plain characters is
    replaced by a hash of the whole value.
    """
    if _SAFE_REFERENCE.fullmatch(idempotency_reference) and not idempotency_reference.startswith("shp_"):
        return idempotency_reference
    return "ret-" + hashlib.sha256(idempotency_reference.encode()).hexdigest()[:32]


def choose_rate(rates: list[EasyPostRate], preferred_carrier: str | None) -> EasyPostRate | None:
    """The cheapest rate of the preferred carrier, else the cheapest of any carrier."""
    if preferred_carrier:
        wanted = preferred_carrier.casefold()
        preferred = [rate for rate in rates if rate.carrier.casefold() == wanted]
        if preferred:
            return min(preferred, key=lambda rate: rate.rate)
    return min(rates, key=lambda rate: rate.rate, default=None)


class EasyPostShipping:
    """Return labels and tracking through the EasyPost SDK, with typed errors and safe retries."""

    def __init__(
        self,
        api_key: str,
        api_base: str | None = None,
        *,
        timeout: float = 15.0,
        retry_policy: RetryPolicyFactory | None = None,
    ) -> None:
        # The SDK passes `timeout` straight to requests, which takes a float despite the int hint.
        self._client = EasyPostClient(api_key, api_base=api_base or DEFAULT_API_BASE, timeout=timeout)  # type: ignore[arg-type]
        self._retry_policy = retry_policy
        self._disable_sdk_retries(api_base or DEFAULT_API_BASE)
        # The SDK's errors do not carry response headers; its response hook does. The hook runs
        # in the worker thread that made the call, so a thread-local keeps calls apart.
        self._last_response = threading.local()
        self._client.subscribe_to_response_hook(self._remember_response)  # type: ignore[no-untyped-call]

    # ------------------------------------------------------------------ return labels

    async def buy_return_label(
        self,
        *,
        from_address: Address,
        to_address: Address,
        parcel: Parcel,
        preferred_carrier: str | None,
        reference: str,
        idempotency_reference: str | None = None,
    ) -> ReturnLabel:
        """Buy a prepaid label for a parcel going from the shopper (`from_address`) back to the
        warehouse (`to_address`), at the cheapest rate of `preferred_carrier` (any carrier's when
        it has none). Calling again with the same idempotency reference returns the same label.

        `reference` is the human reference printed on the label (e.g. "Return #1001");
        `idempotency_reference` (default: `reference`) identifies the purchase for deduplication.
        """
        key = shipment_reference(idempotency_reference or reference)
        shipment = await self._find_or_create_return_shipment(
            key, from_address=from_address, to_address=to_address, parcel=parcel, printed_reference=reference
        )
        if not shipment.purchased:
            rate = choose_rate(shipment.rates, preferred_carrier)
            if rate is None:
                notes = "; ".join(f"{m.carrier}: {m.message}" for m in shipment.messages if m.message)
                raise VendorError(
                    VENDOR, f"no rate for shipment {shipment.id}" + (f" ({notes})" if notes else "")
                )
            shipment = await self._buy_once(shipment.id, rate.id)
        return return_label_from(shipment)

    async def _find_or_create_return_shipment(
        self, key: str, *, from_address: Address, to_address: Address, parcel: Parcel, printed_reference: str
    ) -> EasyPostShipment:
        # With is_return EasyPost swaps the meaning of the two addresses: the label is addressed
        # to `from_address`. So the warehouse goes in `from_address`, the shopper in `to_address`.
        params: dict[str, Any] = {
            "is_return": True,
            "from_address": to_address.to_params(),
            "to_address": from_address.to_params(),
            "parcel": parcel.to_params(),
            "reference": key,
            "options": {"label_format": "PNG", "print_custom_1": printed_reference[:35]},
        }

        def find_or_create() -> EasyPostShipment:
            try:
                return _shipment(self._client.shipment.retrieve(key))
            except NotFoundError:
                pass
            return _shipment(self._client.shipment.create(**params))

        # Safe to retry: every attempt looks the reference up before creating.
        return await self._call(find_or_create, idempotent=True)

    async def _buy_once(self, shipment_id: str, rate_id: str) -> EasyPostShipment:
        def buy() -> EasyPostShipment:
            return _shipment(self._client.shipment.buy(shipment_id, rate={"id": rate_id}))

        try:
            return await self._call(buy, idempotent=False)
        except VendorError as exc:
            if exc.status != 422:
                raise
            # Bought meanwhile (a concurrent or earlier attempt)? Then that label is the answer.
            shipment = await self.get_shipment(shipment_id)
            if shipment.purchased:
                return shipment
            raise

    # ------------------------------------------------------------------ shipments (building blocks)

    async def create_shipment(
        self,
        *,
        from_address: Address,
        to_address: Address,
        parcel: Parcel,
        reference: str | None = None,
        is_return: bool = False,
        options: Mapping[str, Any] | None = None,
    ) -> EasyPostShipment:
        """Create a shipment and get its rates (sent once: a retry could create a second one)."""
        params: dict[str, Any] = {
            "from_address": from_address.to_params(),
            "to_address": to_address.to_params(),
            "parcel": parcel.to_params(),
            "is_return": is_return,
        }
        if reference:
            params["reference"] = reference
        if options:
            params["options"] = dict(options)
        return await self._call(lambda: _shipment(self._client.shipment.create(**params)), idempotent=False)

    async def get_shipment(self, shipment_id_or_reference: str) -> EasyPostShipment:
        return await self._call(
            lambda: _shipment(self._client.shipment.retrieve(shipment_id_or_reference)), idempotent=True
        )

    async def buy_shipment(self, shipment_id: str, rate_id: str) -> EasyPostShipment:
        """Buy postage at `rate_id`. Never retried: see the module docstring."""
        return await self._buy_once(shipment_id, rate_id)

    # ------------------------------------------------------------------ tracking

    async def create_tracker(self, tracking_code: str, carrier: str | None = None) -> TrackingInfo:
        """Start tracking a code. EasyPost returns the existing tracker for a code it already
        tracks, so this is safe to retry."""
        params: dict[str, Any] = {"tracking_code": tracking_code}
        if carrier:
            params["carrier"] = carrier
        return await self._call(lambda: _tracking(self._client.tracker.create(**params)), idempotent=True)

    async def get_tracker(self, tracker_id: str) -> TrackingInfo:
        return await self._call(lambda: _tracking(self._client.tracker.retrieve(tracker_id)), idempotent=True)

    async def track(self, tracking_code: str, carrier: str | None = None) -> TrackingInfo:
        """The current tracking of a parcel, by its carrier tracking code."""
        return await self.create_tracker(tracking_code, carrier)

    # ------------------------------------------------------------------ plumbing

    async def _call(self, call: Callable[[], T], *, idempotent: bool) -> T:
        return await call_sdk(
            VENDOR, call, map_error=self._map_error, idempotent=idempotent, retry_policy=self._retry_policy
        )

    def _disable_sdk_retries(self, api_base: str) -> None:
        """The SDK mounts a requests adapter that silently retries timed-out GETs three times;
        replace it so the shared policy is the only one (bounded attempts, one recorded wait)."""
        session = getattr(self._client, "_requests_session", None)
        if isinstance(session, requests.Session):
            session.mount(api_base.split("/v2")[0], HTTPAdapter(max_retries=0))

    def _remember_response(self, **event: Any) -> None:
        self._last_response.status = event.get("http_status")
        self._last_response.headers = event.get("headers") or {}

    def _map_error(self, exc: Exception) -> IntegrationError:
        """EasyPost SDK exception -> typed error (runs in the thread that made the call)."""
        status: int | None = getattr(exc, "http_status", None)
        if isinstance(exc, EasyPostTimeoutError) and status is None:
            return timed_out(VENDOR)
        if isinstance(exc, HttpError):
            return could_not_connect(VENDOR, "no response from EasyPost")
        if isinstance(exc, JsonError):
            # A body that is not JSON: on an error status the status says what happened.
            status = status or getattr(self._last_response, "status", None)
            if status is not None and status >= 400:
                return error_for_status(VENDOR, status, "non-JSON error body", auth_setting=AUTH_SETTING)
            return malformed(VENDOR, status)
        if isinstance(exc, ApiError):
            code = getattr(exc, "code", None)
            text = f"{code}: {exc.message}" if code else str(exc.message)
            if isinstance(exc, UnauthorizedError | ForbiddenError):
                status = status or 401
            elif isinstance(exc, NotFoundError):
                status = 404
            elif isinstance(exc, RateLimitError):
                status = 429
            headers: Mapping[str, str] = getattr(self._last_response, "headers", None) or {}
            return error_for_status(
                VENDOR,
                status or 500,
                text,
                auth_setting=AUTH_SETTING,
                retry_after=parse_retry_after(headers.get("Retry-After")),
            )
        if isinstance(exc, EasyPostError):
            return VendorError(VENDOR, f"SDK error: {type(exc).__name__}")
        return VendorError(VENDOR, f"unexpected {type(exc).__name__} from the SDK")


def _shipment(obj: Any) -> EasyPostShipment:
    return EasyPostShipment.model_validate(obj.to_dict())


def _tracking(obj: Any) -> TrackingInfo:
    return TrackingInfo.from_tracker(EasyPostTracker.model_validate(obj.to_dict()))


def return_label_from(shipment: EasyPostShipment) -> ReturnLabel:
    """The label of a bought shipment (VendorError when it has none)."""
    rate = shipment.selected_rate
    label = shipment.postage_label
    tracking = shipment.tracking_code or (shipment.tracker.tracking_code if shipment.tracker else None)
    if rate is None or label is None or not label.label_url or not tracking:
        raise VendorError(VENDOR, f"shipment {shipment.id} was bought but has no label or tracking code")
    return ReturnLabel(
        tracking_number=tracking,
        label_url=label.label_url,
        carrier=rate.carrier,
        service=rate.service,
        cost=rate.rate,
        currency=rate.currency,
        shipment_id=shipment.id,
    )
