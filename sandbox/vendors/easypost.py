"""Emulator of the EasyPost API v2 (mounted at `/easypost/v2`), as the official SDK calls it.

Shipments with deterministic rates from USPS, UPS and FedEx (priced by weight; USPS stops at
70 lb, the others at 150 lb, so a heavy parcel has no USPS rate), `carrier_accounts` and
`carrier` restrictions, buying (label, tracking code, a `pre_transit` tracker; buying twice is
a 422), lookup by id or by `reference`, and trackers: the seeded ones by tracking code,
EasyPost's test codes (`EZ1000000001` pre_transit ... `EZ7000000007` unknown), and any other
code as a tracker with no scans yet. Bodies are wrapped in the object name, as EasyPost does.
"""

from __future__ import annotations

import json
import math
import re
import struct
import zlib
from collections.abc import Callable, Coroutine
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NoReturn

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from sandbox.http import WorldDep, require_easypost
from sandbox.world import JSON, World

CARRIER_ACCOUNTS = {"USPS": "ca_sandbox_usps", "UPS": "ca_sandbox_ups", "FedEx": "ca_sandbox_fedex"}
MAX_POUNDS = {"USPS": 70, "UPS": 150, "FedEx": 150}
# carrier -> (service, base price, price per pound, delivery days)
SERVICES: dict[str, list[tuple[str, Decimal, Decimal, int]]] = {
    "USPS": [
        ("GroundAdvantage", Decimal("5.20"), Decimal("0.85"), 4),
        ("Priority", Decimal("8.10"), Decimal("1.10"), 2),
        ("Express", Decimal("28.50"), Decimal("2.40"), 1),
    ],
    "UPS": [
        ("Ground", Decimal("9.45"), Decimal("0.95"), 5),
        ("2ndDayAir", Decimal("18.90"), Decimal("1.90"), 2),
        ("NextDayAir", Decimal("32.00"), Decimal("3.10"), 1),
    ],
    "FedEx": [
        ("FEDEX_GROUND", Decimal("9.10"), Decimal("1.00"), 5),
        ("FEDEX_2_DAY", Decimal("19.40"), Decimal("1.85"), 2),
        ("STANDARD_OVERNIGHT", Decimal("34.50"), Decimal("3.00"), 1),
    ],
}
TEST_TRACKING = re.compile(r"^EZ([1-7])\d{9}$")
TEST_STATUSES = {
    "1": "pre_transit",
    "2": "in_transit",
    "3": "out_for_delivery",
    "4": "delivered",
    "5": "return_to_sender",
    "6": "failure",
    "7": "unknown",
}
ADDRESS_FIELDS = (
    "name",
    "company",
    "street1",
    "street2",
    "city",
    "state",
    "zip",
    "country",
    "phone",
    "email",
)


class EasyPostFailure(Exception):
    """An EasyPost error with field errors, rendered as `{"error": {"code", "message", "errors"}}`."""

    def __init__(self, status: int, code: str, message: str, errors: list[JSON] | None = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or []
        super().__init__(message)


def fail(status: int, code: str, message: str, errors: list[JSON] | None = None) -> NoReturn:
    raise EasyPostFailure(status, code, message, errors)


class EasyPostRoute(APIRoute):
    """Renders `EasyPostFailure` in EasyPost's error shape (the app renders the rest)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except EasyPostFailure as exc:
                body = {"error": {"code": exc.code, "message": exc.message, "errors": exc.errors}}
                return JSONResponse(body, status_code=exc.status)

        return route


router = APIRouter(route_class=EasyPostRoute)
api = APIRouter(route_class=EasyPostRoute, dependencies=[Depends(require_easypost)])


# --------------------------------------------------------------------------- helpers


async def wrapped_body(request: Request, name: str) -> JSON:
    """The `{"<name>": {...}}` object of a JSON body (422 like EasyPost when it is missing)."""
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        fail(400, "BAD_REQUEST", "The request body is not valid JSON.")
    inner = body.get(name) if isinstance(body, dict) else None
    if not isinstance(inner, dict) or not inner:
        fail(
            422,
            "PARAMETER.REQUIRED",
            "Missing required parameter.",
            [{"field": name, "message": "cannot be blank"}],
        )
    return inner


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def stamp(world: World, record: JSON) -> JSON:
    record.setdefault("created_at", world.now_iso())
    record["updated_at"] = world.now_iso()
    return record


def address_record(world: World, params: Any, field: str) -> JSON:
    if not isinstance(params, dict) or not params:
        fail(
            422,
            "PARAMETER.REQUIRED",
            "Missing required parameter.",
            [{"field": field, "message": "cannot be blank"}],
        )
    if set(params) == {"id"}:
        existing = world.easypost.addresses.get(str(params["id"]))
        if existing is None:
            fail(
                422,
                "ADDRESS.NOT_FOUND",
                f"Address {params['id']} not found.",
                [{"field": field, "message": "unknown id"}],
            )
        return existing
    missing = [key for key in ("street1", "city", "zip") if not params.get(key)]
    if missing:
        errors = [{"field": f"{field}.{key}", "message": "cannot be blank"} for key in missing]
        fail(422, "PARAMETER.REQUIRED", "Missing required parameter.", errors)
    record: JSON = {"id": world.new_str_id("adr"), "object": "Address", "mode": "test"}
    record.update({key: params.get(key) for key in ADDRESS_FIELDS})
    record["country"] = record["country"] or "US"
    record.update({"residential": None, "carrier_facility": None, "verifications": {}})
    stamp(world, record)
    world.easypost.addresses[record["id"]] = record
    return record


def parcel_record(world: World, params: Any) -> JSON:
    if not isinstance(params, dict) or not params:
        fail(
            422,
            "PARAMETER.REQUIRED",
            "Missing required parameter.",
            [{"field": "parcel", "message": "cannot be blank"}],
        )
    try:
        weight = float(params.get("weight") or 0)
    except (TypeError, ValueError):
        weight = 0
    if weight <= 0:
        fail(
            422,
            "PARCEL.WEIGHT.INVALID",
            "Parcel weight must be greater than zero.",
            [{"field": "parcel.weight"}],
        )

    def dimension(key: str) -> float | None:
        value = params.get(key)
        return float(value) if value not in (None, "") else None

    record: JSON = {
        "id": world.new_str_id("prcl"),
        "object": "Parcel",
        "mode": "test",
        "length": dimension("length"),
        "width": dimension("width"),
        "height": dimension("height"),
        "weight": weight,
        "predefined_package": params.get("predefined_package"),
    }
    return stamp(world, record)


def allowed_carriers(shipment: JSON) -> list[str]:
    carriers = list(SERVICES)
    accounts = shipment.get("carrier_accounts")
    if accounts:
        ids = {account.get("id") if isinstance(account, dict) else account for account in accounts}
        carriers = [carrier for carrier in carriers if CARRIER_ACCOUNTS[carrier] in ids]
    wanted = shipment.get("carrier")
    if isinstance(wanted, str) and wanted:
        carriers = [carrier for carrier in carriers if carrier.casefold() == wanted.casefold()]
    return carriers


def rates_for(
    world: World, shipment_id: str, weight_oz: float, carriers: list[str]
) -> tuple[list[JSON], list[JSON]]:
    """Deterministic rates by weight, and carrier messages for the carriers that cannot ship it."""
    pounds = max(1, math.ceil(weight_oz / 16))
    rates: list[JSON] = []
    messages: list[JSON] = []
    for carrier in carriers:
        if pounds > MAX_POUNDS[carrier]:
            messages.append(
                {
                    "carrier": carrier,
                    "carrier_account_id": CARRIER_ACCOUNTS[carrier],
                    "type": "rate_error",
                    "message": f"Parcel weight exceeds the {MAX_POUNDS[carrier]} lb limit of {carrier}.",
                }
            )
            continue
        for service, base, per_pound, days in SERVICES[carrier]:
            price = base + per_pound * pounds
            rates.append(
                stamp(
                    world,
                    {
                        "id": world.new_str_id("rate"),
                        "object": "Rate",
                        "mode": "test",
                        "service": service,
                        "carrier": carrier,
                        "rate": money(price),
                        "currency": "USD",
                        "retail_rate": money(price * Decimal("1.25")),
                        "retail_currency": "USD",
                        "list_rate": money(price * Decimal("1.10")),
                        "list_currency": "USD",
                        "billing_type": "easypost",
                        "delivery_days": days,
                        "est_delivery_days": days,
                        "delivery_date": None,
                        "delivery_date_guaranteed": False,
                        "shipment_id": shipment_id,
                        "carrier_account_id": CARRIER_ACCOUNTS[carrier],
                    },
                )
            )
    return rates, messages


def page_size(value: str | None) -> int:
    try:
        return max(1, min(100, int(value or 20)))
    except ValueError:
        fail(422, "PARAMETER.INVALID", "page_size must be a number.", [{"field": "page_size"}])


def tracking_code_for(world: World, carrier: str) -> str:
    n = world.new_int_id()
    if carrier == "UPS":
        return f"1ZSBX{n:013d}"
    if carrier == "FedEx":
        return f"7{n:011d}"
    return f"9434{n:018d}"


def guess_carrier(code: str) -> str:
    if code.upper().startswith("1Z"):
        return "UPS"
    if code.isdigit() and len(code) in (12, 15):
        return "FedEx"
    return "USPS"


def find_shipment(world: World, id_or_reference: str) -> JSON:
    shipment = world.easypost.shipments.get(id_or_reference)
    if shipment is None:
        # EasyPost accepts a reference in place of an id; the newest shipment wins.
        matches = [s for s in world.easypost.shipments.values() if s.get("reference") == id_or_reference]
        shipment = matches[-1] if matches else None
    if shipment is None:
        fail(404, "NOT_FOUND", "The requested resource could not be found.")
    return shipment


def shipment_view(world: World, shipment: JSON) -> JSON:
    """The shipment with its tracker as it is now (trackers move on after purchase)."""
    tracker = shipment.get("tracker")
    if isinstance(tracker, dict) and tracker.get("id") in world.easypost.trackers:
        return {**shipment, "tracker": world.easypost.trackers[tracker["id"]]}
    return shipment


def label_png(seed: str) -> bytes:
    """A small 4x6-proportioned grey label with bars derived from `seed` (the tracking code)."""
    width, height = 96, 144
    bars = [int(ch, 36) % 4 + 1 for ch in seed if ch.isalnum()] or [2]
    rows = []
    for y in range(height):
        row = bytearray([255] * width)
        border = y < 3 or y >= height - 3
        for x in range(width):
            if border or x < 3 or x >= width - 3:
                row[x] = 0
        if 90 <= y < 130:
            x = 10
            for index, bar in enumerate(bars):
                if x + bar >= width - 10:
                    break
                if index % 2 == 0:
                    row[x : x + bar] = bytes(bar)
                x += bar + 1
        rows.append(b"\x00" + bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------- trackers


def tracker_record(
    world: World,
    code: str,
    carrier: str,
    status: str,
    details: list[JSON],
    *,
    status_detail: str | None = None,
    est_days: float | None = None,
    shipment_id: str | None = None,
    is_return: bool = False,
) -> JSON:
    tracker_id = world.new_str_id("trk")
    now = world.now()
    record: JSON = {
        "id": tracker_id,
        "object": "Tracker",
        "mode": "test",
        "tracking_code": code,
        "status": status,
        "status_detail": status_detail or (details[-1]["status_detail"] if details else "unknown"),
        "carrier": carrier,
        "created_at": world.now_iso(),
        "updated_at": details[-1]["datetime"] if details else world.now_iso(),
        "est_delivery_date": (now + timedelta(days=est_days)).isoformat().replace("+00:00", "Z")
        if est_days is not None
        else None,
        "signed_by": None,
        "weight": None,
        "shipment_id": shipment_id,
        "public_url": f"https://track.easypost.com/{tracker_id}",
        "tracking_details": details,
        "carrier_detail": None,
        "fees": [],
        "is_return": is_return,
        "finalized": True,
    }
    world.easypost.trackers[tracker_id] = record
    return record


def detail(
    world: World,
    days_ago: float,
    status: str,
    message: str,
    carrier: str,
    city: str | None,
    state: str | None,
) -> JSON:
    moment = (world.now() - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")
    return {
        "object": "TrackingDetail",
        "message": message,
        "description": message,
        "status": status,
        "status_detail": "status_update",
        "datetime": moment,
        "source": carrier,
        "carrier_code": None,
        "tracking_location": {
            "object": "TrackingLocation",
            "city": city,
            "state": state,
            "country": "US",
            "zip": None,
        },
    }


def easypost_test_tracker(world: World, code: str, status: str, carrier: str) -> JSON:
    """A history like EasyPost's test trackers: scans leading up to the code's status."""
    steps: list[tuple[float, str, str, str | None, str | None]] = [
        (6, "pre_transit", "Pre-Shipment Info Sent to USPS", None, None),
        (5.5, "pre_transit", "Shipping Label Created", "HOUSTON", "TX"),
    ]
    if status != "pre_transit" and status != "unknown":
        steps += [
            (4, "in_transit", "Arrived at USPS Origin Facility", "HOUSTON", "TX"),
            (2, "in_transit", "Departed USPS Regional Facility", "ATLANTA", "GA"),
        ]
    if status in ("out_for_delivery", "delivered"):
        steps.append((0.6, "out_for_delivery", "Out for Delivery", "CHARLESTON", "SC"))
    if status == "delivered":
        steps.append((0.2, "delivered", "Delivered, In/At Mailbox", "CHARLESTON", "SC"))
    if status == "return_to_sender":
        steps.append((0.5, "return_to_sender", "Return to Sender Processed", "CHARLESTON", "SC"))
    if status == "failure":
        steps.append(
            (0.5, "failure", "Delivery Attempt Failed: no access to delivery location", "CHARLESTON", "SC")
        )
    if status == "unknown":
        steps = []
    details = [
        detail(world, days, step, message, carrier, city, state) for days, step, message, city, state in steps
    ]
    est = {"pre_transit": 5.0, "in_transit": 2.0, "out_for_delivery": 0.3}.get(status)
    return tracker_record(world, code, carrier, status, details, status_detail="status_update", est_days=est)


# --------------------------------------------------------------------------- routes: shipments


@api.post("/shipments", status_code=201)
async def create_shipment(request: Request, world: WorldDep) -> JSON:
    params = await wrapped_body(request, "shipment")
    errors = [
        {"field": f"shipment.{key}", "message": "cannot be blank"}
        for key in ("to_address", "from_address", "parcel")
        if not params.get(key)
    ]
    if errors:
        fail(422, "PARAMETER.REQUIRED", "Missing required parameter.", errors)
    shipment_id = world.new_str_id("shp")
    from_address = address_record(world, params["from_address"], "shipment.from_address")
    to_address = address_record(world, params["to_address"], "shipment.to_address")
    parcel = parcel_record(world, params["parcel"])
    rates, messages = rates_for(world, shipment_id, parcel["weight"], allowed_carriers(params))
    options = {"currency": "USD", "payment": {"type": "SENDER"}, "date_advance": 0}
    options.update(params.get("options") or {})
    shipment: JSON = {
        "id": shipment_id,
        "object": "Shipment",
        "mode": "test",
        "is_return": bool(params.get("is_return", False)),
        "reference": params.get("reference"),
        "status": "unknown",
        "tracking_code": None,
        "options": options,
        "messages": messages,
        "from_address": from_address,
        "to_address": to_address,
        # Who pays and who bought, as EasyPost reports them (unchanged by is_return).
        "return_address": from_address,
        "buyer_address": to_address,
        "parcel": parcel,
        "customs_info": None,
        "insurance": None,
        "rates": rates,
        "selected_rate": None,
        "postage_label": None,
        "tracker": None,
        "refund_status": None,
        "scan_form": None,
        "batch_id": None,
        "order_id": None,
        "forms": [],
        "fees": [],
    }
    stamp(world, shipment)
    world.easypost.shipments[shipment_id] = shipment
    return shipment


@api.get("/shipments")
async def list_shipments(request: Request, world: WorldDep) -> JSON:
    query = request.query_params
    shipments = sorted(world.easypost.shipments.values(), key=lambda s: s["id"], reverse=True)
    purchased = query.get("purchased")
    if purchased in ("true", "false"):
        shipments = [s for s in shipments if (s.get("postage_label") is not None) == (purchased == "true")]
    if query.get("before_id"):
        shipments = [s for s in shipments if s["id"] < query["before_id"]]
    size = page_size(query.get("page_size"))
    return {
        "shipments": [shipment_view(world, s) for s in shipments[:size]],
        "has_more": len(shipments) > size,
    }


@api.get("/shipments/{shipment_id}")
async def get_shipment(shipment_id: str, world: WorldDep) -> JSON:
    return shipment_view(world, find_shipment(world, shipment_id))


@api.post("/shipments/{shipment_id}/buy")
async def buy_shipment(shipment_id: str, request: Request, world: WorldDep) -> JSON:
    shipment = find_shipment(world, shipment_id)
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        fail(400, "BAD_REQUEST", "The request body is not valid JSON.")
    rate = body.get("rate") if isinstance(body, dict) else None
    rate_id = rate.get("id") if isinstance(rate, dict) else rate
    if not rate_id:
        fail(
            422,
            "PARAMETER.REQUIRED",
            "Missing required parameter.",
            [{"field": "rate", "message": "cannot be blank"}],
        )
    if shipment.get("postage_label") is not None:
        fail(422, "SHIPMENT.POSTAGE.EXISTS", "Postage already exists for this shipment.")
    chosen = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
    if chosen is None:
        fail(
            422, "SHIPMENT.RATE.INVALID", "The rate does not belong to this shipment.", [{"field": "rate.id"}]
        )

    carrier = chosen["carrier"]
    code = tracking_code_for(world, carrier)
    label_id = world.new_str_id("pl")
    # With is_return the label is addressed to from_address, so the parcel starts at to_address.
    origin = shipment["to_address"] if shipment.get("is_return") else shipment["from_address"]
    first_scan = detail(
        world, 0, "pre_transit", "Shipping Label Created", carrier, origin.get("city"), origin.get("state")
    )
    first_scan["status_detail"] = "label_created"
    tracker = tracker_record(
        world,
        code,
        carrier,
        "pre_transit",
        [first_scan],
        status_detail="label_created",
        est_days=float(chosen.get("delivery_days") or 5) + 1,
        shipment_id=shipment["id"],
        is_return=bool(shipment.get("is_return")),
    )
    shipment["postage_label"] = stamp(
        world,
        {
            "object": "PostageLabel",
            "id": label_id,
            "date_advance": 0,
            "integrated_form": "none",
            "label_date": world.now_iso(),
            "label_resolution": 300,
            "label_size": "4x6",
            "label_type": "default",
            "label_file_type": "image/png",
            "label_url": str(request.url_for("easypost_label", label_id=label_id)),
            "label_pdf_url": None,
            "label_zpl_url": None,
            "label_epl2_url": None,
            "label_file": None,
        },
    )
    shipment["selected_rate"] = chosen
    shipment["tracking_code"] = code
    shipment["tracker"] = tracker
    shipment["fees"] = [
        {"object": "Fee", "type": "LabelFee", "amount": "0.00000", "charged": True, "refunded": False},
        {
            "object": "Fee",
            "type": "PostageFee",
            "amount": f"{Decimal(chosen['rate']):.5f}",
            "charged": True,
            "refunded": False,
        },
    ]
    stamp(world, shipment)
    return shipment_view(world, shipment)


@router.get("/labels/{label_id}.png", name="easypost_label")
async def label_image(label_id: str, world: WorldDep) -> Response:
    """The label image (public, like EasyPost's file links)."""
    for shipment in world.easypost.shipments.values():
        label = shipment.get("postage_label") or {}
        if label.get("id") == label_id:
            return Response(label_png(shipment.get("tracking_code") or label_id), media_type="image/png")
    return Response(status_code=404)


# --------------------------------------------------------------------------- routes: trackers


@api.post("/trackers")
async def create_tracker(request: Request, world: WorldDep) -> JSON:
    params = await wrapped_body(request, "tracker")
    code = str(params.get("tracking_code") or "").strip()
    if not code:
        fail(
            422,
            "PARAMETER.REQUIRED",
            "Missing required parameter.",
            [{"field": "tracker.tracking_code", "message": "cannot be blank"}],
        )
    carrier = str(params.get("carrier") or "").strip()
    for tracker in world.easypost.trackers.values():
        same_carrier = not carrier or str(tracker.get("carrier", "")).casefold() == carrier.casefold()
        if tracker["tracking_code"] == code and same_carrier:
            return tracker
    test = TEST_TRACKING.match(code)
    if test:
        return easypost_test_tracker(world, code, TEST_STATUSES[test.group(1)], carrier or "USPS")
    canonical = (
        next((c for c in SERVICES if c.casefold() == carrier.casefold()), carrier) if carrier else None
    )
    return tracker_record(
        world, code, canonical or guess_carrier(code), "pre_transit", [], status_detail="unknown"
    )


@api.get("/trackers")
async def list_trackers(request: Request, world: WorldDep) -> JSON:
    query = request.query_params
    trackers = sorted(world.easypost.trackers.values(), key=lambda t: t["id"], reverse=True)
    codes = set(query.getlist("tracking_codes[]"))
    if query.get("tracking_code"):
        codes.add(query["tracking_code"])
    if codes:
        trackers = [t for t in trackers if t["tracking_code"] in codes]
    if query.get("carrier"):
        trackers = [
            t for t in trackers if str(t.get("carrier", "")).casefold() == query["carrier"].casefold()
        ]
    size = page_size(query.get("page_size"))
    return {"trackers": trackers[:size], "has_more": len(trackers) > size}


@api.get("/trackers/{tracker_id}")
async def get_tracker(tracker_id: str, world: WorldDep) -> JSON:
    tracker = world.easypost.trackers.get(tracker_id)
    if tracker is None:
        fail(404, "NOT_FOUND", "The requested resource could not be found.")
    return tracker


# --------------------------------------------------------------------------- routes: addresses


@api.post("/addresses", status_code=201)
async def create_address(request: Request, world: WorldDep) -> JSON:
    return address_record(world, await wrapped_body(request, "address"), "address")


@api.get("/addresses/{address_id}")
async def get_address(address_id: str, world: WorldDep) -> JSON:
    address = world.easypost.addresses.get(address_id)
    if address is None:
        fail(404, "NOT_FOUND", "The requested resource could not be found.")
    return address


router.include_router(api)
