"""The EasyPost client: against EasyPost's own recorded cassettes and published responses, and
through the official SDK against the sandbox over HTTP (return labels, tracking, faults)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import vcr
from tenacity import AsyncRetrying

from integrations._http import AuthError, NotFound, RateLimited, VendorError, retrying
from integrations.easypost import Address, EasyPostShipping, Parcel
from integrations.easypost.client import choose_rate, return_label_from, shipment_reference
from integrations.easypost.models import EasyPostShipment, EasyPostTracker, ReturnLabel, TrackingInfo
from sandbox.world import Fault
from tests.conftest import LiveSandbox

REAL_BASE = "https://api.easypost.com/v2"

SHOPPER = Address(
    name="Ana Silva", street1="18 Alder Ln", city="Portland", state="OR", zip="97201", email="ana@example.com"
)
WAREHOUSE = Address(
    name="Harbor & Pine Returns", street1="2750 Mill St", city="Reno", state="NV", zip="89502"
)
SHIRT = Parcel(length=10, width=8, height=2, weight=20)


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def cassettes(fixtures_dir: Path) -> vcr.VCR:
    """Replay only. The cassettes also recorded headers and bodies our calls do not share, so
    requests match on everything else (see fixtures/README)."""
    return vcr.VCR(
        cassette_library_dir=str(fixtures_dir / "easypost"),
        record_mode="none",
        match_on=["method", "scheme", "host", "port", "path", "query"],
    )


def sandbox_client(
    live: LiveSandbox,
    policy: Callable[[], AsyncRetrying] | None = None,
    *,
    key: str = "EZTK_sandbox",
    timeout: float = 5,
) -> EasyPostShipping:
    return EasyPostShipping(key, f"{live.url}/easypost/v2", timeout=timeout, retry_policy=policy)


async def buy(
    client: EasyPostShipping,
    *,
    parcel: Parcel = SHIRT,
    carrier: str | None = "USPS",
    key: str = "conv-1:call-1",
) -> ReturnLabel:
    return await client.buy_return_label(
        from_address=SHOPPER,
        to_address=WAREHOUSE,
        parcel=parcel,
        preferred_carrier=carrier,
        reference="Return #1001",
        idempotency_reference=key,
    )


# --------------------------------------------------------------------------- real recorded payloads


async def test_shipment_create_cassette_parses_rates(cassettes: vcr.VCR) -> None:
    with cassettes.use_cassette("test_shipment_create.yaml"):
        client = EasyPostShipping("EZTK_recorded", REAL_BASE, timeout=5)
        shipment = await client.create_shipment(from_address=WAREHOUSE, to_address=SHOPPER, parcel=SHIRT)
    assert shipment.id == "shp_4f5381cd729d48c2adc4d2d801d655e2"
    assert not shipment.purchased
    assert {(r.carrier, r.service, r.rate) for r in shipment.rates} == {
        ("USPS", "Express", Decimal("34.15")),
        ("USPS", "Priority", Decimal("7.42")),
        ("USPS", "GroundAdvantage", Decimal("6.07")),
    }
    cheapest = choose_rate(shipment.rates, "usps")
    assert cheapest is not None
    assert cheapest.service == "GroundAdvantage"


async def test_shipment_buy_cassette_gives_a_label(cassettes: vcr.VCR) -> None:
    with cassettes.use_cassette("test_shipment_buy.yaml"):
        client = EasyPostShipping("EZTK_recorded", REAL_BASE, timeout=5)
        created = await client.create_shipment(from_address=WAREHOUSE, to_address=SHOPPER, parcel=SHIRT)
        rate = choose_rate(created.rates, "USPS")
        assert rate is not None
        bought = await client.buy_shipment(created.id, rate.id)
    label = return_label_from(bought)
    assert label.tracking_number == "9400100208303109505657"
    assert label.label_url.startswith("https://easypost-files.s3")
    assert (label.carrier, label.service, label.cost, label.currency) == (
        "USPS",
        "GroundAdvantage",
        Decimal("6.07"),
        "USD",
    )
    assert label.shipment_id == created.id
    assert bought.tracker is not None
    assert bought.tracker.tracking_code == label.tracking_number


async def test_shipment_retrieve_cassette(cassettes: vcr.VCR) -> None:
    with cassettes.use_cassette("test_shipment_retrieve.yaml"):
        client = EasyPostShipping("EZTK_recorded", REAL_BASE, timeout=5)
        created = await client.create_shipment(from_address=WAREHOUSE, to_address=SHOPPER, parcel=SHIRT)
        again = await client.get_shipment(created.id)
    assert again.id == created.id == "shp_8412b33c1ad042049c1f2db46077cad2"
    assert again.rates


async def test_tracker_create_and_retrieve_cassettes(cassettes: vcr.VCR) -> None:
    with cassettes.use_cassette("test_tracker_create.yaml"):
        created = await EasyPostShipping("EZTK_recorded", REAL_BASE, timeout=5).create_tracker("EZ1000000001")
    assert created.status == "pre_transit"
    assert created.tracking_code == "EZ1000000001"
    assert created.carrier == "USPS"
    with cassettes.use_cassette("test_tracker_retrieve.yaml"):
        client = EasyPostShipping("EZTK_recorded", REAL_BASE, timeout=5)
        tracker = await client.create_tracker("EZ1000000001")
        retrieved = await client.get_tracker(tracker.tracker_id)
    assert retrieved.tracker_id == "trk_e7e8f143f3eb40d38be9562e3767c36a"
    assert [e.message for e in retrieved.events] == [
        "Pre-Shipment Info Sent to USPS",
        "Shipping Label Created",
    ]
    assert retrieved.events[-1].location == "HOUSTON, TX"
    assert (retrieved.public_url or "").startswith("https://track.easypost.com/")


async def test_error_cassette_is_a_typed_error(cassettes: vcr.VCR) -> None:
    with cassettes.use_cassette("test_error.yaml"), pytest.raises(VendorError) as caught:
        await EasyPostShipping("EZTK_recorded", REAL_BASE, timeout=5).create_shipment(
            from_address=WAREHOUSE, to_address=SHOPPER, parcel=SHIRT
        )
    assert caught.value.status == 422
    assert "PARAMETER.REQUIRED" in str(caught.value)
    assert not caught.value.retryable


def test_published_responses_parse(fixtures_dir: Path) -> None:
    docs = fixtures_dir / "easypost" / "docs-responses"
    returned = EasyPostShipment.model_validate(json.loads((docs / "returns-create.json").read_text()))
    assert returned.is_return is True
    assert not returned.purchased
    assert len(returned.rates) == 3
    # A return shipment names the warehouse as from_address: the label is addressed to it.
    assert returned.from_address is not None
    assert returned.from_address.name == "EasyPost"
    bought = EasyPostShipment.model_validate(json.loads((docs / "shipments-buy.json").read_text()))
    assert return_label_from(bought).tracking_number == "9434600208303109842228"
    for name in ("trackers-create.json", "trackers-retrieve.json"):
        info = TrackingInfo.from_tracker(
            EasyPostTracker.model_validate(json.loads((docs / name).read_text()))
        )
        assert info.status == "pre_transit"
        assert [e.datetime for e in info.events] == sorted(e.datetime for e in info.events)


# --------------------------------------------------------------------------- sandbox over HTTP


async def test_buys_the_cheapest_preferred_carrier_return_label(live_sandbox: LiveSandbox) -> None:
    label = await buy(sandbox_client(live_sandbox))

    [shipment] = live_sandbox.world.easypost.shipments.values()
    usps = [r for r in shipment["rates"] if r["carrier"] == "USPS"]
    assert shipment["is_return"] is True
    assert shipment["reference"] == shipment_reference("conv-1:call-1")
    assert shipment["options"]["print_custom_1"] == "Return #1001"
    # With is_return the label is addressed to from_address: the warehouse; the shopper ships it.
    assert shipment["from_address"]["street1"] == WAREHOUSE.street1
    assert shipment["to_address"]["street1"] == SHOPPER.street1
    assert shipment["postage_label"]["label_url"] == label.label_url
    assert label.carrier == "USPS"
    assert label.cost == min(Decimal(r["rate"]) for r in usps)
    assert shipment["selected_rate"]["rate"] == str(label.cost)
    assert label.tracking_number == shipment["tracking_code"]
    tracker = live_sandbox.world.easypost.trackers[shipment["tracker"]["id"]]
    assert (tracker["tracking_code"], tracker["status"]) == (label.tracking_number, "pre_transit")
    async with httpx.AsyncClient() as http:
        image = await http.get(label.label_url)
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")


async def test_same_reference_returns_the_same_label_without_buying_again(live_sandbox: LiveSandbox) -> None:
    client = sandbox_client(live_sandbox)
    first = await buy(client)
    second = await buy(client)
    assert second == first
    assert len(live_sandbox.world.easypost.shipments) == 1


async def test_a_shipment_created_but_not_bought_is_bought_not_duplicated(live_sandbox: LiveSandbox) -> None:
    client = sandbox_client(live_sandbox)
    created = await client.create_shipment(
        from_address=WAREHOUSE,
        to_address=SHOPPER,
        parcel=SHIRT,
        is_return=True,
        reference=shipment_reference("conv-1:call-1"),
    )
    label = await buy(client)
    assert label.shipment_id == created.id
    assert len(live_sandbox.world.easypost.shipments) == 1


async def test_falls_back_to_another_carrier_when_the_preferred_has_no_rate(
    live_sandbox: LiveSandbox,
) -> None:
    client = sandbox_client(live_sandbox)
    heavy = Parcel(length=30, width=20, height=20, weight=80 * 16)  # over USPS's 70 lb
    label = await buy(client, parcel=heavy, carrier="USPS", key="heavy")
    shipment = live_sandbox.world.easypost.shipments[label.shipment_id]
    assert {r["carrier"] for r in shipment["rates"]} == {"UPS", "FedEx"}
    assert label.cost == min(Decimal(r["rate"]) for r in shipment["rates"])
    assert (label.carrier, label.service) == ("UPS", "Ground")

    unknown = await buy(client, carrier="DHL", key="dhl")
    assert (unknown.carrier, unknown.service) == ("USPS", "GroundAdvantage")


async def test_no_rate_at_all_is_a_vendor_error_and_buys_nothing(live_sandbox: LiveSandbox) -> None:
    with pytest.raises(VendorError, match="no rate"):
        await buy(sandbox_client(live_sandbox), parcel=Parcel(weight=200 * 16), key="too-heavy")
    [shipment] = live_sandbox.world.easypost.shipments.values()
    assert shipment["postage_label"] is None


async def test_tracks_a_seeded_parcel_by_code(live_sandbox: LiveSandbox) -> None:
    before = len(live_sandbox.world.easypost.trackers)
    info = await sandbox_client(live_sandbox).track("1Z84F2A90312345678", "UPS")
    assert info.tracker_id == "trk_00000000000000001001"
    assert (info.status, info.carrier) == ("in_transit", "UPS")
    assert info.est_delivery_date is not None
    assert info.events[0].status == "pre_transit"
    assert info.events[-1].location == "Sacramento, CA"
    assert [e.datetime for e in info.events] == sorted(e.datetime for e in info.events)
    assert len(live_sandbox.world.easypost.trackers) == before


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("EZ1000000001", "pre_transit"),
        ("EZ2000000002", "in_transit"),
        ("EZ3000000003", "out_for_delivery"),
        ("EZ4000000004", "delivered"),
        ("EZ5000000005", "return_to_sender"),
        ("EZ6000000006", "failure"),
        ("EZ7000000007", "unknown"),
    ],
)
async def test_easypost_test_codes(live_sandbox: LiveSandbox, code: str, status: str) -> None:
    client = sandbox_client(live_sandbox)
    created = await client.create_tracker(code, "USPS")
    assert created.status == status
    assert (await client.get_tracker(created.tracker_id)) == created
    assert (await client.track(code, "USPS")).tracker_id == created.tracker_id


async def test_unknown_code_gets_a_tracker_without_scans(live_sandbox: LiveSandbox) -> None:
    info = await sandbox_client(live_sandbox).track("9400100000000000000000")
    assert (info.status, info.carrier, info.events) == ("pre_transit", "USPS", [])
    assert live_sandbox.world.easypost.trackers[info.tracker_id]["tracking_code"] == "9400100000000000000000"


async def test_unknown_tracker_is_not_found(live_sandbox: LiveSandbox) -> None:
    with pytest.raises(NotFound):
        await sandbox_client(live_sandbox).get_tracker("trk_missing")


async def test_wrong_key_names_the_setting(live_sandbox: LiveSandbox) -> None:
    with pytest.raises(AuthError) as caught:
        await sandbox_client(live_sandbox, key="EZTK_wrong").track("EZ1000000001")
    assert caught.value.setting == "EASYPOST_API_KEY"
    assert "EZTK_wrong" not in str(caught.value)


async def test_rate_limit_is_retried_after_retry_after(
    live_sandbox: LiveSandbox, policy: Callable[[], AsyncRetrying], waits: list[float]
) -> None:
    live_sandbox.world.faults.append(
        Fault(vendor="easypost", route="/trackers", kind="rate_limit", retry_after=1.5)
    )
    info = await sandbox_client(live_sandbox, policy).track("EZ2000000002")
    assert info.status == "in_transit"
    assert waits == [1.5]


async def test_rate_limit_surfaces_when_it_persists(
    live_sandbox: LiveSandbox, policy: Callable[[], AsyncRetrying], waits: list[float]
) -> None:
    live_sandbox.world.faults.append(
        Fault(vendor="easypost", route="/trackers", kind="rate_limit", retry_after=2, remaining=10)
    )
    with pytest.raises(RateLimited) as caught:
        await sandbox_client(live_sandbox, policy).get_tracker("trk_00000000000000001001")
    assert caught.value.retry_after == 2
    assert waits == [2, 2, 2]


async def test_server_error_on_create_is_retried_without_duplicates(
    live_sandbox: LiveSandbox, policy: Callable[[], AsyncRetrying], waits: list[float]
) -> None:
    live_sandbox.world.faults.append(
        Fault(vendor="easypost", route="/shipments", method="POST", kind="error")
    )
    label = await buy(sandbox_client(live_sandbox, policy))
    assert len(waits) == 1
    assert list(live_sandbox.world.easypost.shipments) == [label.shipment_id]


async def test_server_error_on_buy_is_not_retried_and_a_new_call_finishes_the_job(
    live_sandbox: LiveSandbox, policy: Callable[[], AsyncRetrying], waits: list[float]
) -> None:
    client = sandbox_client(live_sandbox, policy)
    live_sandbox.world.faults.append(Fault(vendor="easypost", route="/buy", kind="error", status=503))
    with pytest.raises(VendorError) as caught:
        await buy(client)
    assert caught.value.status == 503
    assert waits == []
    [shipment] = live_sandbox.world.easypost.shipments.values()
    assert shipment["postage_label"] is None

    label = await buy(client)
    assert label.shipment_id == shipment["id"]
    assert len(live_sandbox.world.easypost.shipments) == 1


async def test_malformed_body_is_a_vendor_error(live_sandbox: LiveSandbox) -> None:
    live_sandbox.world.faults.append(Fault(vendor="easypost", route="/trackers", kind="malformed"))
    with pytest.raises(VendorError, match="malformed"):
        await sandbox_client(live_sandbox).get_tracker("trk_00000000000000001001")


async def test_slower_than_the_timeout_is_a_vendor_error(
    live_sandbox: LiveSandbox, waits: list[float]
) -> None:
    async def record(seconds: float) -> None:
        waits.append(seconds)

    live_sandbox.world.faults.append(
        Fault(
            vendor="easypost", route="/trackers", method="GET", kind="delay", delay_seconds=0.5, remaining=2
        )
    )
    client = sandbox_client(live_sandbox, lambda: retrying(sleep=record, attempts=2), timeout=0.2)
    with pytest.raises(VendorError, match="timed out") as caught:
        await client.get_tracker("trk_00000000000000001001")
    assert caught.value.retryable
    assert len(waits) == 1
