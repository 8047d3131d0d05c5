"""The EasyPost client against a REAL EasyPost account (marked `live`; skipped on the sandbox).

Configure EASYPOST_API_KEY (and leave EASYPOST_API_BASE empty for EasyPost itself), then run
`pytest -m live tests/integrations/live/test_easypost_live.py`. Cassettes are written, filtered,
to tests/cassettes/live/easypost/.

Tracking uses EasyPost's test codes. The return label is bought only with a TEST key (`EZTK...`):
test-mode labels cost nothing, production ones do.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.settings import Settings
from integrations._http import AuthError, NotFound
from integrations.easypost import Address, EasyPostShipping, Parcel
from tests.conftest import LiveSandbox
from tests.integrations.live.vcr_config import FILTERED, live_vcr, require_real_account, scrub_response


def _hide_scan_places(value: Any) -> Any:
    """Scan locations of a return parcel start at the shopper's door: drop their city and zip."""
    if isinstance(value, dict):
        return {
            key: {**item, "city": FILTERED, "zip": FILTERED}
            if key == "tracking_location" and isinstance(item, dict)
            else _hide_scan_places(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_hide_scan_places(item) for item in value]
    return value


def scrub_easypost_response(response: dict[str, Any]) -> dict[str, Any]:
    """The shared response filter, plus EasyPost's tracking locations."""
    body = response.get("body", {})
    raw = body.get("string")
    if isinstance(raw, bytes | str) and raw:
        # A body that is not JSON (a label image) is left to the shared filter.
        with contextlib.suppress(ValueError):
            body["string"] = json.dumps(_hide_scan_places(json.loads(raw))).encode()
    return scrub_response(response)


def cassette(name: str, library: Path | None = None) -> Any:
    return live_vcr("easypost", cassette_library_dir=library).use_cassette(
        name, before_record_response=scrub_easypost_response
    )


# EasyPost's own office as the "warehouse", a public landmark as the "shopper": no real person.
WAREHOUSE = Address(
    name="EasyPost", street1="417 Montgomery Street", street2="5th Floor", city="San Francisco", state="CA",
    zip="94104", phone="4153334445",
)  # fmt: skip
SHOPPER = Address(
    name="Dr. Steve Brule", street1="179 N Harbor Dr", city="Redondo Beach", state="CA", zip="90277",
    phone="4153334445",
)  # fmt: skip


@pytest.fixture
def settings() -> Settings:
    settings = Settings()
    require_real_account(settings, secret_field="easypost_api_key", url_field="easypost_api_base")
    return settings


@pytest.fixture
def client(settings: Settings) -> EasyPostShipping:
    return EasyPostShipping(
        settings.easypost_api_key.get_secret_value(), settings.easypost_api_base or None, timeout=30
    )


@pytest.mark.live
async def test_tracks_a_test_code(client: EasyPostShipping) -> None:
    with cassette("tracker.yaml"):
        created = await client.track("EZ2000000002", "USPS")
        again = await client.get_tracker(created.tracker_id)
    assert created.status == "in_transit"
    assert again.tracker_id == created.tracker_id
    assert [e.datetime for e in again.events] == sorted(e.datetime for e in again.events)


@pytest.mark.live
async def test_unknown_tracker_and_wrong_key(settings: Settings, client: EasyPostShipping) -> None:
    with cassette("errors.yaml"):
        with pytest.raises(NotFound):
            await client.get_tracker("trk_00000000000000000000000000000000")
        with pytest.raises(AuthError) as caught:
            await EasyPostShipping(
                "EZTK_not_a_key", settings.easypost_api_base or None, timeout=30
            ).get_tracker("trk_00000000000000000000000000000000")
    assert caught.value.setting == "EASYPOST_API_KEY"


@pytest.mark.live
async def test_buys_a_test_mode_return_label_once(settings: Settings, client: EasyPostShipping) -> None:
    if not settings.easypost_api_key.get_secret_value().startswith("EZTK"):
        pytest.skip("buying a label needs a test-mode key (EZTK...): production labels cost money")
    reference = f"live-test-{uuid.uuid4().hex[:12]}"
    with cassette("return_label.yaml"):
        label = await client.buy_return_label(
            from_address=SHOPPER,
            to_address=WAREHOUSE,
            parcel=Parcel(length=10, width=8, height=4, weight=15.4),
            preferred_carrier="USPS",
            reference="Live test return",
            idempotency_reference=reference,
        )
        again = await client.buy_return_label(
            from_address=SHOPPER,
            to_address=WAREHOUSE,
            parcel=Parcel(length=10, width=8, height=4, weight=15.4),
            preferred_carrier="USPS",
            reference="Live test return",
            idempotency_reference=reference,
        )
        shipment = await client.get_shipment(label.shipment_id)
    assert again == label
    assert shipment.is_return is True
    assert label.cost > Decimal(0)
    assert label.label_url.startswith("https://")


# ------------------------------------------------------------- the filters, on the SDK's traffic (offline)


async def test_recorded_easypost_traffic_holds_no_secrets_or_addresses(
    live_sandbox: LiveSandbox, tmp_path: Path
) -> None:
    """Record the SDK (requests) talking to the loopback sandbox through the shared VCR."""
    client = EasyPostShipping("EZTK_sandbox", f"{live_sandbox.url}/easypost/v2", timeout=5)
    shopper = SHOPPER.model_copy(update={"email": "steve.brule@example.com"})
    with cassette("filters.yaml", tmp_path):
        await client.buy_return_label(
            from_address=shopper,
            to_address=WAREHOUSE,
            parcel=Parcel(weight=20),
            preferred_carrier="USPS",
            reference="Return #1001",
            idempotency_reference="filters",
        )
    text = (tmp_path / "filters.yaml").read_text()
    for leaked in ("EZTK_sandbox", "steve.brule@example.com", "Brule", "179 N Harbor", "90277", "Redondo"):
        assert leaked not in text
    interactions = yaml.safe_load(text)["interactions"]
    for interaction in interactions:
        headers = {name.lower(): value for name, value in interaction["request"]["headers"].items()}
        assert headers["authorization"] == [FILTERED]
    assert any("GroundAdvantage" in i["response"]["body"]["string"] for i in interactions)
