"""EasyPost as the project's `Shipping` service: tracking and return labels in domain terms."""

from __future__ import annotations

from integrations.domain import Address, Parcel, ReturnLabel, TrackingEvent, TrackingStatus
from integrations.easypost.client import EasyPostShipping
from integrations.easypost.models import Address as EasyPostAddress
from integrations.easypost.models import Parcel as EasyPostParcel
from integrations.easypost.models import TrackingInfo


def _easypost_address(address: Address) -> EasyPostAddress:
    return EasyPostAddress(
        name=address.name,
        street1=address.address1,
        street2=address.address2,
        city=address.city,
        state=address.province_code,
        zip=address.zip,
        country=address.country_code,
        phone=address.phone,
    )


def tracking_status(info: TrackingInfo, carrier: str | None = None) -> TrackingStatus:
    """An EasyPost tracker in domain terms."""
    return TrackingStatus(
        tracking_number=info.tracking_code,
        carrier=info.carrier or carrier,
        status=info.status,
        status_detail=info.status_detail,
        estimated_delivery=info.est_delivery_date,
        public_url=info.public_url,
        events=tuple(
            TrackingEvent(
                at=e.datetime, status=e.status or "unknown", message=e.message or "", location=e.location
            )
            for e in info.events
        ),
    )


class EasyPostShippingService:
    """`Shipping` over EasyPost; return labels go to the store's warehouse."""

    def __init__(
        self, client: EasyPostShipping, *, warehouse: Address, preferred_carrier: str | None
    ) -> None:
        self._client = client
        self._warehouse = _easypost_address(warehouse)
        self._carrier = preferred_carrier

    async def track(self, tracking_number: str, carrier: str | None) -> TrackingStatus:
        return tracking_status(await self._client.track(tracking_number, carrier), carrier)

    async def buy_return_label(
        self, *, shopper: Address, parcel: Parcel, reference: str, preferred_carrier: str | None
    ) -> ReturnLabel:
        label = await self._client.buy_return_label(
            from_address=_easypost_address(shopper),
            to_address=self._warehouse,
            parcel=EasyPostParcel(
                weight=parcel.weight_oz,
                length=parcel.length_in,
                width=parcel.width_in,
                height=parcel.height_in,
            ),
            preferred_carrier=preferred_carrier or self._carrier,
            reference=reference.split("-sa-")[0][:35],
            idempotency_reference=reference,
        )
        return ReturnLabel(
            tracking_number=label.tracking_number,
            label_url=label.label_url,
            carrier=label.carrier,
            service=label.service,
            cost=label.cost,
            currency=label.currency,
            shipment_id=label.shipment_id,
        )
