"""EasyPost payloads (only the fields we use) and the results our client returns.

The vendor models parse the recorded cassettes, the published docs responses and the sandbox
alike, so they are lenient: most fields may be missing or null.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

# --------------------------------------------------------------------------- what we send


class Address(BaseModel):
    """A postal address as EasyPost takes it."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    company: str | None = None
    street1: str
    street2: str | None = None
    city: str
    state: str | None = None
    zip: str
    country: str = "US"
    phone: str | None = None
    email: str | None = None

    def to_params(self) -> dict[str, str]:
        return {key: value for key, value in self.model_dump().items() if value not in (None, "")}


class Parcel(BaseModel):
    """Inches and ounces, as EasyPost measures them."""

    model_config = ConfigDict(extra="ignore")

    length: float | None = None
    width: float | None = None
    height: float | None = None
    weight: float = Field(gt=0, description="Ounces.")

    def to_params(self) -> dict[str, float]:
        return {key: value for key, value in self.model_dump().items() if value is not None}


# --------------------------------------------------------------------------- what EasyPost returns


class EasyPostAddress(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    name: str | None = None
    street1: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None


class EasyPostRate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    carrier: str
    service: str
    rate: Decimal
    currency: str = "USD"
    delivery_days: int | None = None
    carrier_account_id: str | None = None


class EasyPostPostageLabel(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    label_url: str | None = None
    label_file_type: str | None = None


class EasyPostTrackingLocation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    city: str | None = None
    state: str | None = None
    country: str | None = None
    zip: str | None = None

    def describe(self) -> str | None:
        parts = [part for part in (self.city, self.state) if part]
        if not parts and self.country:
            parts = [self.country]
        return ", ".join(parts) or None


class EasyPostTrackingDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    datetime: dt.datetime
    status: str | None = None
    status_detail: str | None = None
    message: str | None = None
    description: str | None = None
    tracking_location: EasyPostTrackingLocation | None = None


class EasyPostTracker(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    tracking_code: str
    status: str = "unknown"
    status_detail: str | None = None
    carrier: str | None = None
    est_delivery_date: dt.datetime | None = None
    public_url: str | None = None
    shipment_id: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    tracking_details: list[EasyPostTrackingDetail] = Field(default_factory=list)


class EasyPostMessage(BaseModel):
    """A carrier's note on a shipment, e.g. why it returned no rate."""

    model_config = ConfigDict(extra="ignore")

    carrier: str | None = None
    message: str | None = None
    type: str | None = None


class EasyPostShipment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    reference: str | None = None
    is_return: bool | None = False
    status: str | None = None
    mode: str | None = None
    created_at: dt.datetime | None = None
    tracking_code: str | None = None
    from_address: EasyPostAddress | None = None
    to_address: EasyPostAddress | None = None
    rates: list[EasyPostRate] = Field(default_factory=list)
    selected_rate: EasyPostRate | None = None
    postage_label: EasyPostPostageLabel | None = None
    tracker: EasyPostTracker | None = None
    messages: list[EasyPostMessage] = Field(default_factory=list)

    @property
    def purchased(self) -> bool:
        return self.postage_label is not None and self.selected_rate is not None


# --------------------------------------------------------------------------- what our client returns


class ReturnLabel(BaseModel):
    """A bought return label: the shopper prints it and drops the parcel off."""

    model_config = ConfigDict(extra="ignore")

    tracking_number: str
    label_url: str
    carrier: str
    service: str
    cost: Decimal
    currency: str
    shipment_id: str


class TrackingEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    datetime: dt.datetime
    status: str | None = None
    message: str | None = None
    location: str | None = None


class TrackingInfo(BaseModel):
    """Where a parcel is, in carrier-neutral terms. `events` are oldest first, newest last."""

    model_config = ConfigDict(extra="ignore")

    tracker_id: str
    tracking_code: str
    status: str
    status_detail: str | None = None
    est_delivery_date: dt.datetime | None = None
    carrier: str | None = None
    public_url: str | None = None
    events: list[TrackingEvent] = Field(default_factory=list)

    @classmethod
    def from_tracker(cls, tracker: EasyPostTracker) -> TrackingInfo:
        events = [
            TrackingEvent(
                datetime=detail.datetime,
                status=detail.status,
                message=detail.message or detail.description,
                location=detail.tracking_location.describe() if detail.tracking_location else None,
            )
            for detail in tracker.tracking_details
        ]
        events.sort(key=lambda event: event.datetime)
        return cls(
            tracker_id=tracker.id,
            tracking_code=tracker.tracking_code,
            status=tracker.status,
            status_detail=tracker.status_detail,
            est_delivery_date=tracker.est_delivery_date,
            carrier=tracker.carrier,
            public_url=tracker.public_url,
            events=events,
        )
