"""EasyPost: return labels and parcel tracking, through the official SDK."""

from integrations.easypost.client import EasyPostShipping
from integrations.easypost.models import Address, Parcel, ReturnLabel, TrackingEvent, TrackingInfo

__all__ = ["Address", "EasyPostShipping", "Parcel", "ReturnLabel", "TrackingEvent", "TrackingInfo"]
