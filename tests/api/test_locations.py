"""A 201 says where the new resource is (issue 17): the Location header, declared in the
document, names the path the app reads (or deletes) it at."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AccountFactory, FakeClock

pytestmark = pytest.mark.usefixtures("seeded")


def test_each_create_says_where_its_resource_is(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    user, clinician = make_account(), make_account("clinician")
    pain = {"recorded_at": clock.now.isoformat(), "phase": "daily", "pain": 2}
    checkin = client.post("/v1/checkins", headers=user.headers, json=pain)
    built = client.post("/v1/sessions", headers=user.headers, json={"equipment": ["mat"]})
    device = client.post("/v1/me/devices", headers=user.headers, json={"name": "Band"})
    code = client.post("/v1/clinician/invitations", headers=clinician.headers).json()["code"]
    link = client.post("/v1/me/clinicians", headers=user.headers, json={"code": code})
    made = [
        (checkin, f"/v1/checkins/{checkin.json()['checkin']['id']}", "GET"),
        (built, f"/v1/sessions/{built.json()['id']}", "GET"),
        (device, f"/v1/me/devices/{device.json()['id']}", "DELETE"),
        (link, f"/v1/me/clinicians/{link.json()['id']}", "DELETE"),
    ]
    for response, where, method in made:
        assert response.status_code == 201, response.text
        assert response.headers["location"] == where
        assert client.request(method, where, headers=user.headers).is_success, where
    # A retry answers as the first request did (201, Location), marked as a replay.
    body = {"id": str(uuid.uuid4()), "recorded_at": clock.now.isoformat(), "phase": "daily"}
    first = client.post("/v1/checkins", headers=user.headers, json={**body, "pain": 1})
    replay = client.post("/v1/checkins", headers=user.headers, json={**body, "pain": 1})
    assert replay.status_code == 201 and replay.json()["checkin"] == first.json()["checkin"]
    assert replay.headers["location"] == first.headers["location"]
    assert replay.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers


def test_the_document_declares_location_on_each_201_it_links_from(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    declared = 0
    for item in doc["paths"].values():
        for operation in item.values():
            created = operation.get("responses", {}).get("201", {})
            if "links" in created:
                assert "Location" in created.get("headers", {}), operation["operationId"]
                declared += 1
    assert declared >= 5


def test_a_cursor_whose_time_has_no_offset_is_a_clear_422(
    client: TestClient, make_account: AccountFactory
) -> None:
    """Not a cursor this API made: refused by name, never a 500."""
    user, clinician = make_account(), make_account("clinician")
    forged = base64.urlsafe_b64encode(
        json.dumps(["2026-01-01T00:00:00", str(uuid.uuid4())]).encode()
    ).decode()
    for url, headers in (("/v1/checkins", user.headers), ("/v1/alerts", clinician.headers)):
        answer = client.get(url, headers=headers, params={"cursor": forged})
        assert answer.status_code == 422, (url, answer.text)
        [error] = answer.json()["errors"]
        assert (error["field"], error["in"], error["code"]) == ("cursor", "query", "invalid_cursor")
