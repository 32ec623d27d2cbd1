"""Bodies are taken as the OpenAPI document describes them, not coerced into shape.

Schema fuzzing found each of these: a number sent as text, seconds since 1970 for a
date-time, a null for a field that cannot be cleared, blank text, a reserved email domain.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.conftest import Account, FakeClock, sign_in


def _field_error(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]


def _checkin(clock: FakeClock, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "recorded_at": (clock.now - timedelta(minutes=1)).isoformat(),
        "phase": "daily",
        "pain": 2,
    }
    body.update(fields)
    return body


def _count_checkins(db: Engine) -> int:
    with db.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM checkins")).scalar_one())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pain", "3"),
        ("pain", True),
        ("pain", 2.5),
        ("recorded_at", 1_764_000_000),
        ("recorded_at", "1764000000"),
        ("radiating_below_knee", "yes"),
        ("radiating_below_knee", 1),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused(
    client: TestClient, user: Account, clock: FakeClock, db: Engine, field: str, value: Any
) -> None:
    response = client.post(
        "/v1/checkins", headers=user.headers, json=_checkin(clock, **{field: value})
    )
    _field_error(response, field)
    assert _count_checkins(db) == 0


def test_an_integral_number_is_an_integer(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    # JSON has one number type; 3.0 is 3 (JSON Schema agrees).
    response = client.post("/v1/checkins", headers=user.headers, json=_checkin(clock, pain=3.0))
    assert response.status_code == 201, response.text
    assert response.json()["checkin"]["pain"] == 3


@pytest.mark.parametrize("field", ["timezone", "session_minutes", "equipment"])
def test_profile_fields_that_always_have_a_value_refuse_null(
    client: TestClient, user: Account, field: str
) -> None:
    before = client.get("/v1/me", headers=user.headers).json()
    _field_error(client.patch("/v1/me", headers=user.headers, json={field: None}), field)
    assert client.get("/v1/me", headers=user.headers).json() == before
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ProfilePatch"]
    assert "anyOf" not in schema["properties"][field]


def test_display_name_can_still_be_cleared(client: TestClient, user: Account) -> None:
    assert (
        client.patch("/v1/me", headers=user.headers, json={"display_name": "Sam"}).status_code
        == 200
    )
    cleared = client.patch("/v1/me", headers=user.headers, json={"display_name": None})
    assert cleared.status_code == 200
    assert cleared.json()["display_name"] is None


def test_blank_text_is_refused(client: TestClient, user: Account) -> None:
    _field_error(
        client.patch("/v1/me", headers=user.headers, json={"display_name": "   "}), "display_name"
    )


def test_a_birth_year_in_the_document_matches_the_service(
    client: TestClient, user: Account
) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ProfilePatch"]
    latest = schema["properties"]["birth_year"]["anyOf"][0]["maximum"]
    assert (
        client.patch("/v1/me", headers=user.headers, json={"birth_year": latest}).status_code == 200
    )
    _field_error(
        client.patch("/v1/me", headers=user.headers, json={"birth_year": latest + 1}), "birth_year"
    )


def test_since_takes_only_a_date_time(client: TestClient, user: Account) -> None:
    for path in ("/v1/checkins", "/v1/sessions"):
        _field_error(client.get(path, headers=user.headers, params={"since": "0.5"}), "since")
        ok = client.get(path, headers=user.headers, params={"since": "2026-01-01T00:00:00Z"})
        assert ok.status_code == 200, ok.text


def test_emails_are_checked_and_normalised(client: TestClient) -> None:
    response = client.post(
        "/v1/auth/register", json={"email": "Sam+back@Mail.Example.org", "password": "pw-123456789"}
    )
    assert response.status_code == 202, response.text
    assert response.json()["email"] == "sam+back@mail.example.org"
    assert sign_in(client, "sam+back@mail.example.org", "pw-123456789").status_code == 200
    for bad in ("not-an-email", "sam@", "a" * 250 + "@example.org"):
        _field_error(
            client.post("/v1/auth/register", json={"email": bad, "password": "pw-123456789"}),
            "email",
        )


def test_nul_characters_are_refused_naming_the_field(
    client: TestClient, user: Account, clock: FakeClock, db: Engine
) -> None:
    # PostgreSQL cannot store U+0000 in text; it must be a 422, never a 500.
    _field_error(
        client.post("/v1/checkins", headers=user.headers, json=_checkin(clock, note="a\x00b")),
        "note",
    )
    _field_error(
        client.post("/v1/checkins", headers=user.headers, json=_checkin(clock, locations=["\x00"])),
        "locations",
    )
    assert _count_checkins(db) == 0
    signin = client.post("/v1/auth/token", data={"username": "a\x00@x.org", "password": "pw"})
    _field_error(signin, "username")


EDGE_TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1899-12-31T23:59:59Z"]


@pytest.mark.parametrize("value", EDGE_TIMES)
def test_a_date_time_out_of_any_sane_range_names_its_field(
    client: TestClient, user: Account, clock: FakeClock, db: Engine, value: str
) -> None:
    # Each of the first two raised OverflowError (a 500) when moved to UTC.
    _field_error(
        client.post("/v1/checkins", headers=user.headers, json=_checkin(clock, recorded_at=value)),
        "recorded_at",
    )
    assert _count_checkins(db) == 0
    for path in ("/v1/checkins", "/v1/sessions"):
        _field_error(client.get(path, headers=user.headers, params={"since": value}), "since")
    built = client.post("/v1/sessions", headers=user.headers, json={"minutes": 20})
    assert built.status_code == 201, built.text
    log = {"started_at": value, "ended_at": clock.now.isoformat(), "entries": []}
    _field_error(
        client.put(f"/v1/sessions/{built.json()['id']}/log", headers=user.headers, json=log),
        "started_at",
    )
    device = client.post("/v1/me/devices", headers=user.headers, json={"name": "Band"})
    upload: dict[str, Any] = {
        "device_session_id": "edge",
        "started_at": value,
        "ended_at": clock.now.isoformat(),
    }
    band = {"Authorization": f"Bearer {device.json()['token']}"}
    response = client.post(
        "/v1/wearable/uploads", headers={**band, "Idempotency-Key": "k"}, json=upload
    )
    _field_error(response, "started_at")
    # A sample's time is checked against the recording's span, by comparison.
    upload = {
        "device_session_id": "edge",
        "started_at": (clock.now - timedelta(minutes=10)).isoformat(),
        "ended_at": clock.now.isoformat(),
        "heart_rate": [{"t": value, "bpm": 80}],
    }
    response = client.post(
        "/v1/wearable/uploads", headers={**band, "Idempotency-Key": "k2"}, json=upload
    )
    _field_error(response, "heart_rate.0.t")
