"""EasyPost's webhook deliveries, emulated: a tracker that changes (a scan the control API adds, or a
scheduled scan the clock reaches) is posted as a `tracker.updated` Event to the account's webhook,
signed as EasyPost signs it: `X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256(secret, body)>`."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import unicodedata
from datetime import datetime
from typing import Any

from sandbox.vendors.twilio import RawSender
from sandbox.world import JSON, World


def signature(secret: str, body: bytes) -> str:
    key = unicodedata.normalize("NFKD", secret).encode()
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def apply_scan(world: World, tracker: JSON, detail: JSON) -> JSON:
    """Add a scan to a tracker (its status follows the scan); returns the attributes it had before."""
    before = {"status": tracker.get("status"), "status_detail": tracker.get("status_detail")}
    tracker["tracking_details"].append(detail)
    tracker["tracking_details"].sort(key=lambda d: d["datetime"])
    tracker["status"] = detail["status"]
    tracker["status_detail"] = detail.get("status_detail") or tracker.get("status_detail")
    tracker["updated_at"] = world.now_iso()
    return before


def event_body(world: World, tracker: JSON, previous: JSON) -> JSON:
    return {
        "object": "Event",
        "id": world.new_str_id("evt"),
        "mode": "test",
        "description": "tracker.updated",
        "previous_attributes": previous,
        "result": copy.deepcopy(tracker),
        "status": "pending",
        "created_at": world.now_iso(),
        "updated_at": world.now_iso(),
    }


async def deliver(world: World, sender: RawSender, tracker: JSON, previous: JSON) -> int | None:
    """Post `tracker.updated` to the account's webhook (when one is set); the status it got."""
    url = world.vendor_webhooks.easypost_url
    if not url:
        return None
    raw = json.dumps(event_body(world, tracker, previous)).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hmac-Signature": signature(world.credentials.easypost_webhook_secret, raw),
        "User-Agent": "EasyPost WebHook Agent 1.0",
    }
    status = await sender(url, headers, raw)
    world.vendor_deliveries.append(
        {"vendor": "easypost", "url": url, "tracker": tracker["id"], "status": status}
    )
    return status


async def run_clock(world: World, sender: RawSender, before: datetime) -> list[dict[str, Any]]:
    """The clock moved from `before` to now: scheduled scans now due happen, each tracker they change
    is announced once."""
    now = world.now()
    due = [
        s
        for s in world.easypost.scheduled
        if before < datetime.fromisoformat(s["detail"]["datetime"].replace("Z", "+00:00")) <= now
    ]
    changed: dict[str, JSON] = {}
    for item in due:
        world.easypost.scheduled.remove(item)
        tracker = world.easypost.trackers.get(item["tracker_id"])
        if tracker is None:
            continue
        previous = apply_scan(world, tracker, item["detail"])
        changed.setdefault(tracker["id"], previous)
    return [
        {
            "tracker": tracker_id,
            "status": await deliver(world, sender, world.easypost.trackers[tracker_id], previous),
        }
        for tracker_id, previous in changed.items()
    ]
