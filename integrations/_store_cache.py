"""What every store adapter shares: a short-lived cache of orders and product tags, dropped when a
store webhook says an order changed, and the webhook side handed to the platform's receiver; and,
for platforms that record no deliveries (WooCommerce, BigCommerce), the carrier's word on a parcel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from integrations._http import IntegrationError
from integrations.domain import TrackingStatus
from integrations.events import StoreEvent
from integrations.ports import StoreWebhooks


class _HasId(Protocol):
    @property
    def id(self) -> int | str: ...


OrderT = TypeVar("OrderT", bound=_HasId)


class CachedStore(Generic[OrderT]):
    """Mixed into a `CommerceBackend` adapter whose `__init__` sets the attributes below."""

    ORDER_TTL_SECONDS = 20.0
    PRODUCT_TTL_SECONDS = 600.0

    _client: Any  # the platform client: `find_order_by_number(number)`, `get_product(id)`
    _now: Callable[[], float]
    _orders: dict[str, tuple[float, OrderT]]
    _tags: dict[int, tuple[float, tuple[str, ...]]]
    webhooks: StoreWebhooks

    def _forget(self, order_id: str) -> None:
        for key, (_, order) in list(self._orders.items()):
            if str(order.id) == str(order_id):
                del self._orders[key]

    async def on_store_event(self, event: StoreEvent) -> None:
        """The order changed in the store (a webhook): the next read fetches it again."""
        self._forget(event.order_id)

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        self.webhooks.verify_webhook(headers, raw_body)

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[StoreEvent]:
        return self.webhooks.parse_webhook(headers, raw_body)

    def dedupe_keys(self, headers: Mapping[str, str], raw_body: bytes) -> list[str]:
        return self.webhooks.dedupe_keys(headers, raw_body)

    async def _by_number(self, number: str) -> OrderT | None:
        cached = self._orders.get(number)
        if cached and self._now() - cached[0] < self.ORDER_TTL_SECONDS:
            return cached[1]
        order: OrderT | None = await self._client.find_order_by_number(number)
        if order is not None:
            self._orders[number] = (self._now(), order)
        return order

    async def _product_tags(self, product_id: int | None) -> tuple[str, ...]:
        if not product_id:
            return ()
        cached = self._tags.get(product_id)
        if cached and self._now() - cached[0] < self.PRODUCT_TTL_SECONDS:
            return cached[1]
        tags = tuple((await self._client.get_product(product_id)).tag_list)
        self._tags[product_id] = (self._now(), tags)
        return tags


Track = Callable[[str, str | None], Awaitable[TrackingStatus]]


@dataclass(frozen=True)
class CarrierWord:
    """What the carrier says of one parcel, as a `Shipment` of a platform without delivery records shows it."""

    status: str | None = None
    delivered_at: datetime | None = None
    unconfirmed: bool = False
    """The carrier did not answer: whether the parcel arrived is not known (not the same as not delivered)."""


class CarrierTracked:
    """Mixed into a store adapter whose platform records no deliveries: only the carrier (EasyPost)
    knows, asked through `_track` and cached a while (a delivered parcel stays delivered)."""

    TRACKING_TTL_SECONDS = 300.0

    _track: Track | None
    _tracked: dict[str, tuple[float, TrackingStatus]]
    _now: Callable[[], float]

    async def _tracking(self, number: str, carrier: str | None) -> TrackingStatus | None:
        """The carrier's word on a parcel (None while it cannot be asked), cached a while."""
        assert self._track is not None
        cached = self._tracked.get(number)
        if cached and (
            cached[1].status == "delivered" or self._now() - cached[0] < self.TRACKING_TTL_SECONDS
        ):
            return cached[1]
        try:
            tracked = await self._track(number, carrier)
        except IntegrationError:
            return None
        self._tracked[number] = (self._now(), tracked)
        return tracked

    async def _carrier_word(
        self, number: str, carrier: str | None, shipped_at: datetime | None
    ) -> CarrierWord:
        if self._track is None:
            return CarrierWord()
        tracked = await self._tracking(number, carrier)
        if tracked is None:
            return CarrierWord(unconfirmed=True)
        delivered = (tracked.last_event_at or shipped_at) if tracked.status == "delivered" else None
        return CarrierWord(status=tracked.status, delivered_at=delivered)
