"""The EasyPost, Stripe and SendGrid emulators at the HTTP level: the vendors' paths, auth, body
encodings, status codes and error shapes (the SDK clients are tested in tests/integrations)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.world import World

EASYPOST = "/easypost/v2"
STRIPE = "/stripe/v1"
SENDGRID = "/sendgrid/v3"
EP_AUTH = {"Authorization": "Bearer EZTK_sandbox"}
STRIPE_AUTH = {"Authorization": "Bearer sk_test_sandbox"}
SG_AUTH = {"Authorization": "Bearer SG.sandbox"}
INTENT = "pi_3SandboxGrace1009"
CHARGE = "ch_3SandboxGrace1009"

WAREHOUSE = {"name": "Returns", "street1": "2750 Mill St", "city": "Reno", "state": "NV", "zip": "89502"}
SHOPPER = {"name": "Ana", "street1": "18 Alder Ln", "city": "Portland", "state": "OR", "zip": "97201"}


async def create_shipment(http: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    shipment = {"from_address": WAREHOUSE, "to_address": SHOPPER, "parcel": {"weight": 20}, **extra}
    response = await http.post(f"{EASYPOST}/shipments", json={"shipment": shipment}, headers=EP_AUTH)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# --------------------------------------------------------------------------- EasyPost


async def test_easypost_rejects_a_wrong_key_in_its_error_shape(sandbox_http: httpx.AsyncClient) -> None:
    response = await sandbox_http.get(f"{EASYPOST}/trackers", headers={"Authorization": "Bearer EZTK_nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "APIKEY.INACTIVE"
    basic = await sandbox_http.get(f"{EASYPOST}/trackers", auth=("EZTK_sandbox", ""))
    assert basic.status_code == 200


async def test_easypost_shipment_needs_its_parts(sandbox_http: httpx.AsyncClient) -> None:
    response = await sandbox_http.post(f"{EASYPOST}/shipments", json={"shipment": {}}, headers=EP_AUTH)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "PARAMETER.REQUIRED"
    assert error["errors"] == [{"field": "shipment", "message": "cannot be blank"}]
    partial = await sandbox_http.post(
        f"{EASYPOST}/shipments", json={"shipment": {"to_address": SHOPPER}}, headers=EP_AUTH
    )
    fields = {e["field"] for e in partial.json()["error"]["errors"]}
    assert fields == {"shipment.from_address", "shipment.parcel"}


async def test_easypost_rates_are_deterministic_and_priced_by_weight(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    light = await create_shipment(sandbox_http)
    heavy = await create_shipment(sandbox_http, parcel={"weight": 10 * 16})

    def price(shipment: dict[str, Any], carrier: str, service: str) -> str:
        rates = {(r["carrier"], r["service"]): str(r["rate"]) for r in shipment["rates"]}
        return rates[(carrier, service)]

    assert {r["carrier"] for r in light["rates"]} == {"USPS", "UPS", "FedEx"}
    assert price(light, "USPS", "GroundAdvantage") == "6.90"  # 5.20 + 2 lb x 0.85
    assert price(heavy, "USPS", "GroundAdvantage") == "13.70"
    assert all(r["shipment_id"] == light["id"] for r in light["rates"])
    assert world.easypost.shipments[light["id"]]["rates"] == light["rates"]


async def test_easypost_carrier_restrictions(sandbox_http: httpx.AsyncClient) -> None:
    by_account = await create_shipment(sandbox_http, carrier_accounts=["ca_sandbox_fedex"])
    assert {r["carrier"] for r in by_account["rates"]} == {"FedEx"}
    by_carrier = await create_shipment(sandbox_http, carrier="ups")
    assert {r["carrier"] for r in by_carrier["rates"]} == {"UPS"}
    too_heavy = await create_shipment(sandbox_http, parcel={"weight": 71 * 16})
    assert "USPS" not in {r["carrier"] for r in too_heavy["rates"]}
    assert too_heavy["messages"][0]["carrier"] == "USPS"


async def test_easypost_buy_once_then_422(sandbox_http: httpx.AsyncClient, world: World) -> None:
    shipment = await create_shipment(sandbox_http, is_return=True, reference="rma-1")
    rate = shipment["rates"][0]
    bought = await sandbox_http.post(
        f"{EASYPOST}/shipments/{shipment['id']}/buy", json={"rate": {"id": rate["id"]}}, headers=EP_AUTH
    )
    assert bought.status_code == 200
    body = bought.json()
    assert body["selected_rate"]["id"] == rate["id"]
    assert body["tracker"]["status"] == "pre_transit"
    assert body["tracking_code"] == body["tracker"]["tracking_code"]
    # The return parcel starts at the shopper's (to_address): the first scan is there.
    assert body["tracker"]["tracking_details"][0]["tracking_location"]["city"] == "Portland"
    assert world.easypost.trackers[body["tracker"]["id"]]["shipment_id"] == shipment["id"]

    again = await sandbox_http.post(
        f"{EASYPOST}/shipments/{shipment['id']}/buy", json={"rate": {"id": rate["id"]}}, headers=EP_AUTH
    )
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "SHIPMENT.POSTAGE.EXISTS"

    by_reference = await sandbox_http.get(f"{EASYPOST}/shipments/rma-1", headers=EP_AUTH)
    assert by_reference.json()["id"] == shipment["id"]
    label = await sandbox_http.get(body["postage_label"]["label_url"])
    assert label.content.startswith(b"\x89PNG")
    purchased = await sandbox_http.get(f"{EASYPOST}/shipments", params={"purchased": "true"}, headers=EP_AUTH)
    assert [s["id"] for s in purchased.json()["shipments"]] == [shipment["id"]]


async def test_easypost_buy_with_a_foreign_rate_is_refused(sandbox_http: httpx.AsyncClient) -> None:
    shipment = await create_shipment(sandbox_http)
    response = await sandbox_http.post(
        f"{EASYPOST}/shipments/{shipment['id']}/buy", json={"rate": {"id": "rate_other"}}, headers=EP_AUTH
    )
    assert response.status_code == 422
    missing = await sandbox_http.get(f"{EASYPOST}/shipments/shp_missing", headers=EP_AUTH)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"


async def test_easypost_tracker_for_a_seeded_code_is_the_seeded_tracker(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    count = len(world.easypost.trackers)
    response = await sandbox_http.post(
        f"{EASYPOST}/trackers", json={"tracker": {"tracking_code": "772899104987"}}, headers=EP_AUTH
    )
    assert response.json()["status"] == "failure"
    assert len(world.easypost.trackers) == count
    listed = await sandbox_http.get(
        f"{EASYPOST}/trackers", params={"tracking_code": "772899104987"}, headers=EP_AUTH
    )
    assert [t["tracking_code"] for t in listed.json()["trackers"]] == ["772899104987"]


async def test_easypost_test_code_trackers_are_created_once(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    first = await sandbox_http.post(
        f"{EASYPOST}/trackers", json={"tracker": {"tracking_code": "EZ4000000004"}}, headers=EP_AUTH
    )
    second = await sandbox_http.post(
        f"{EASYPOST}/trackers", json={"tracker": {"tracking_code": "EZ4000000004"}}, headers=EP_AUTH
    )
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["status"] == "delivered"
    assert first.json()["tracking_details"][-1]["status"] == "delivered"
    assert sum(t["tracking_code"] == "EZ4000000004" for t in world.easypost.trackers.values()) == 1


# --------------------------------------------------------------------------- Stripe


async def test_stripe_auth_and_request_ids(sandbox_http: httpx.AsyncClient) -> None:
    wrong = await sandbox_http.get(
        f"{STRIPE}/payment_intents/{INTENT}", headers={"Authorization": "Bearer sk_x"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["type"] == "invalid_request_error"
    assert wrong.headers["Request-Id"].startswith("req_")
    basic = await sandbox_http.get(f"{STRIPE}/payment_intents/{INTENT}", auth=("sk_test_sandbox", ""))
    assert basic.status_code == 200
    assert basic.headers["Request-Id"].startswith("req_")


async def test_stripe_missing_objects(sandbox_http: httpx.AsyncClient) -> None:
    response = await sandbox_http.get(f"{STRIPE}/charges/ch_missing", headers=STRIPE_AUTH)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"
    assert response.json()["error"]["message"] == "No such charge: 'ch_missing'"


async def test_stripe_form_encoded_refund_with_metadata(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    response = await sandbox_http.post(
        f"{STRIPE}/refunds",
        content="payment_intent=pi_3SandboxGrace1009&amount=1500&metadata[order]=1009&metadata[note]=a%26b",
        headers={**STRIPE_AUTH, "Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": "k1"},
    )
    assert response.status_code == 200
    refund = response.json()
    assert (refund["object"], refund["amount"], refund["status"]) == ("refund", 1500, "succeeded")
    assert refund["metadata"] == {"order": "1009", "note": "a&b"}
    assert refund["created"] == int(world.clock.timestamp())
    assert world.stripe.charges[CHARGE]["amount_refunded"] == 1500
    listed = await sandbox_http.get(
        f"{STRIPE}/refunds", params={"payment_intent": INTENT}, headers=STRIPE_AUTH
    )
    assert [r["id"] for r in listed.json()["data"]] == [refund["id"]]
    single = await sandbox_http.get(f"{STRIPE}/refunds/{refund['id']}", headers=STRIPE_AUTH)
    assert single.json() == refund


async def test_stripe_idempotency_replays_and_conflicts(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    headers = {**STRIPE_AUTH, "Idempotency-Key": "same-key"}
    first = await sandbox_http.post(
        f"{STRIPE}/refunds", data={"charge": CHARGE, "amount": "100"}, headers=headers
    )
    replay = await sandbox_http.post(
        f"{STRIPE}/refunds", data={"charge": CHARGE, "amount": "100"}, headers=headers
    )
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    conflict = await sandbox_http.post(
        f"{STRIPE}/refunds", data={"charge": CHARGE, "amount": "200"}, headers=headers
    )
    assert conflict.status_code == 400
    assert conflict.json()["error"]["type"] == "idempotency_error"
    assert len(world.stripe.refunds) == 1
    assert world.stripe.idempotency["same-key"]["status"] == 200


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"payment_intent": INTENT, "amount": "9000"}, "amount_too_large"),
        ({"payment_intent": INTENT, "amount": "0"}, "parameter_invalid_integer"),
        ({"amount": "100"}, "parameter_missing"),
    ],
)
async def test_stripe_refused_refunds_record_nothing(
    sandbox_http: httpx.AsyncClient, world: World, form: dict[str, str], code: str
) -> None:
    response = await sandbox_http.post(
        f"{STRIPE}/refunds", data=form, headers={**STRIPE_AUTH, "Idempotency-Key": "k"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert world.stripe.refunds == {}
    assert world.stripe.idempotency == {}


async def test_stripe_already_refunded(sandbox_http: httpx.AsyncClient) -> None:
    full = await sandbox_http.post(f"{STRIPE}/refunds", data={"payment_intent": INTENT}, headers=STRIPE_AUTH)
    assert full.json()["amount"] == 8097
    again = await sandbox_http.post(f"{STRIPE}/refunds", data={"payment_intent": INTENT}, headers=STRIPE_AUTH)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "charge_already_refunded"


# --------------------------------------------------------------------------- SendGrid


def mail(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "personalizations": [{"to": [{"email": "ana@example.com"}]}],
        "from": {"email": "support@harborandpine.test"},
        "subject": "Hello",
        "content": [{"type": "text/plain", "value": "Hi"}, {"type": "text/html", "value": "<p>Hi</p>"}],
    }
    body.update(overrides)
    return body


async def test_sendgrid_accepts_with_202_and_a_message_id(
    sandbox_http: httpx.AsyncClient, world: World
) -> None:
    response = await sandbox_http.post(f"{SENDGRID}/mail/send", json=mail(categories=["x"]), headers=SG_AUTH)
    assert response.status_code == 202
    assert response.content == b""
    [email] = world.sendgrid.outbox
    assert email["message_id"] == response.headers["X-Message-Id"]
    assert (email["to"], email["subject"], email["text"], email["html"]) == (
        ["ana@example.com"],
        "Hello",
        "Hi",
        "<p>Hi</p>",
    )
    assert email["categories"] == ["x"]


async def test_sendgrid_auth_error_shape(sandbox_http: httpx.AsyncClient, world: World) -> None:
    response = await sandbox_http.post(
        f"{SENDGRID}/mail/send", json=mail(), headers={"Authorization": "Bearer SG.other"}
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"].startswith("The provided authorization grant")
    assert world.sendgrid.outbox == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"personalizations": []}, "personalizations"),
        ({"personalizations": [{"to": [{"email": "nope"}]}]}, "personalizations.0.to.0.email"),
        ({"from": {}}, "from.email"),
        ({"subject": ""}, "subject"),
        ({"content": []}, "content"),
        (
            {"content": [{"type": "text/html", "value": "<p>x</p>"}, {"type": "text/plain", "value": "x"}]},
            "content.1.type",
        ),
    ],
)
async def test_sendgrid_field_errors(
    sandbox_http: httpx.AsyncClient, world: World, overrides: dict[str, Any], field: str
) -> None:
    response = await sandbox_http.post(f"{SENDGRID}/mail/send", json=mail(**overrides), headers=SG_AUTH)
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]
    assert world.sendgrid.outbox == []
