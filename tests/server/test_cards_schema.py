"""The cards' JSON Schema is served to the widget."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.cards import card_schema
from server import routes_chat


def test_the_card_schema_is_served() -> None:
    app = FastAPI()
    app.include_router(routes_chat.schemas)
    response = TestClient(app).get("/api/cards.schema.json")
    assert response.status_code == 200
    assert response.json() == card_schema()
    kinds = {option["$ref"].rsplit("/", 1)[-1] for option in response.json()["oneOf"]}
    assert kinds == {"OrderCard", "TrackingCard", "ConfirmCard", "LabelCard", "RefundCard", "HandoffCard"}
