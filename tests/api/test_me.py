"""The caller's profile, devices, export and erasure."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from api.models import Device
from api.services.account_data import user_owned_tables
from api.services.seed import SeedReport
from tests.conftest import Account, AccountFactory, FakeClock, sign_in


def test_profile_update(client: TestClient, user: Account, seeded: SeedReport) -> None:
    response = client.patch(
        "/v1/me",
        headers=user.headers,
        json={
            "display_name": "Robin",
            "equipment": ["mat", "resistance-band", "mat"],
            "session_minutes": 25,
            "timezone": "Europe/London",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["equipment"] == ["mat", "resistance-band"]
    assert (body["display_name"], body["session_minutes"], body["timezone"]) == (
        "Robin",
        25,
        "Europe/London",
    )
    assert client.get("/v1/me", headers=user.headers).json() == body
    # Only what is sent changes.
    again = client.patch("/v1/me", headers=user.headers, json={"session_minutes": 30}).json()
    assert again["equipment"] == ["mat", "resistance-band"]
    assert again["session_minutes"] == 30


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"equipment": ["mat", "treadmill"]}, "equipment"),
        ({"equipment": None}, "equipment"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"session_minutes": 2}, "session_minutes"),
        ({"session_minutes": "long"}, "session_minutes"),
        ({"role": "admin"}, "role"),
        ({"email": "new@example.com"}, "email"),
    ],
)
def test_bad_profile_updates_change_nothing(
    client: TestClient, user: Account, seeded: SeedReport, patch: dict[str, object], field: str
) -> None:
    before = client.get("/v1/me", headers=user.headers).json()
    response = client.patch("/v1/me", headers=user.headers, json=patch)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert client.get("/v1/me", headers=user.headers).json() == before


def test_devices_authenticate_only_the_wearable_endpoints(
    client: TestClient, user: Account, db: Engine
) -> None:
    created = client.post("/v1/me/devices", headers=user.headers, json={"name": "Watch"})
    assert created.status_code == 201
    device = created.json()
    token = device["token"]
    assert token.startswith("bsd_")
    assert device["token_prefix"] == token[:12]
    assert created.headers["cache-control"] == "no-store"
    with Session(db) as s:
        stored = s.exec(select(Device)).one()
        assert token not in (stored.token_hash, stored.token_prefix)

    listed = client.get("/v1/me/devices", headers=user.headers).json()
    assert [d["id"] for d in listed["items"]] == [device["id"]]
    assert "token" not in listed["items"][0]
    assert token not in str(listed)

    device_headers = {"Authorization": f"Bearer {token}"}
    upload = {
        "device_session_id": "rec-1",
        "started_at": "2026-01-01T10:00:00+00:00",
        "ended_at": "2026-01-01T10:10:00+00:00",
        "heart_rate": [{"t": "2026-01-01T10:00:01+00:00", "bpm": 80}],
    }

    def send(headers: dict[str, str], key: str) -> int:
        return client.post(
            "/v1/wearable/uploads", headers={**headers, "Idempotency-Key": key}, json=upload
        ).status_code

    assert send(device_headers, "k1") == 201
    refused = client.get("/v1/me", headers=device_headers)
    assert refused.status_code == 401
    assert refused.json()["type"] == "/problems/device-token-not-allowed"
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/v1/me/devices", headers=device_headers).status_code == 401
    # And a person's access token is not a device token.
    assert send(user.headers, "k2") == 401

    deleted = client.delete(f"/v1/me/devices/{device['id']}", headers=user.headers)
    assert deleted.status_code == 204
    assert send(device_headers, "k3") == 401
    assert client.get("/v1/me/devices", headers=user.headers).json()["items"] == []


def test_another_users_device_is_404(client: TestClient, make_account: AccountFactory) -> None:
    owner, other = make_account(), make_account()
    device = client.post("/v1/me/devices", headers=owner.headers, json={"name": "Band"}).json()
    response = client.delete(f"/v1/me/devices/{device['id']}", headers=other.headers)
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/not-found"
    assert client.get("/v1/me/devices", headers=other.headers).json()["items"] == []
    assert len(client.get("/v1/me/devices", headers=owner.headers).json()["items"]) == 1
    missing = client.delete(f"/v1/me/devices/{uuid.uuid4()}", headers=owner.headers)
    assert missing.status_code == 404


def test_a_device_registration_retried_with_its_client_id_is_one_device(
    client: TestClient, make_account: AccountFactory, db: Engine, clock: FakeClock
) -> None:
    """A lost response: the retry gets the same device and the same token, which works."""
    user, other = make_account(), make_account()
    body = {"id": str(uuid.uuid4()), "name": "Band"}
    first = client.post("/v1/me/devices", headers=user.headers, json=body)
    assert first.status_code == 201
    again = client.post("/v1/me/devices", headers=user.headers, json=body)
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and again.json()["id"] == body["id"]
    assert again.headers["cache-control"] == "no-store"
    with Session(db) as s:
        assert len(s.exec(select(Device).where(Device.user_id == uuid.UUID(user.id))).all()) == 1
    start = clock.now - timedelta(minutes=10)
    upload = {
        "device_session_id": "r1",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=5)).isoformat(),
        "heart_rate": [{"t": (start + timedelta(seconds=1)).isoformat(), "bpm": 90}],
    }
    token = {"Authorization": f"Bearer {again.json()['token']}", "Idempotency-Key": "k1"}
    assert client.post("/v1/wearable/uploads", headers=token, json=upload).status_code == 201
    # Past the retry window the token is not shown again (a stolen access token must
    # not fetch a device's token), nor with another name, nor to another person.
    clock.advance(minutes=6)
    late_retry = client.post("/v1/me/devices", headers=user.headers, json=body)
    assert late_retry.status_code == 409 and "token" not in late_retry.json()
    assert late_retry.json()["type"] == "/problems/client-id-reused"
    for headers, name in ((user.headers, "Watch"), (other.headers, "Band")):
        clash = client.post("/v1/me/devices", headers=headers, json={**body, "name": name})
        assert clash.status_code == 409
        assert clash.json()["type"] == "/problems/client-id-reused"
    # Revoked, then the old request arrives late: a new device whose token is new; the
    # revoked token stays dead.
    assert client.delete(f"/v1/me/devices/{body['id']}", headers=user.headers).status_code == 204
    clock.advance(seconds=2)
    late = client.post("/v1/me/devices", headers=user.headers, json=body)
    assert late.status_code == 201 and late.json()["token"] != first.json()["token"]
    token["Idempotency-Key"] = "k2"
    assert client.post("/v1/wearable/uploads", headers=token, json=upload).status_code == 401


def test_device_list_pages(client: TestClient, user: Account) -> None:
    made = [
        client.post("/v1/me/devices", headers=user.headers, json={"name": f"D{n}"}).json()["id"]
        for n in range(5)
    ]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/me/devices", headers=user.headers, params=params).json()
        seen += [d["id"] for d in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(made)
    assert len(set(seen)) == 5
    bad = client.get("/v1/me/devices", headers=user.headers, params={"cursor": "!!nope"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"
    too_big = client.get("/v1/me/devices", headers=user.headers, params={"limit": 101})
    assert too_big.status_code == 422


def test_export_holds_my_data_and_no_secrets(
    client: TestClient, user: Account, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sign_in(client, user.email, "a-wrong-password")
    device = client.post("/v1/me/devices", headers=user.headers, json={"name": "Watch"}).json()
    rotated = client.post("/v1/auth/refresh", json={"refresh_token": user.refresh_token}).json()
    response = client.get("/v1/me/export", headers=user.headers)
    assert response.status_code == 200
    export = response.json()
    assert export["profile"]["email"] == user.email
    assert [d["id"] for d in export["devices"]] == [device["id"]]
    assert len(export["sign_ins"]) == 2
    assert len(export["failed_logins"]) == 1
    secrets = [
        user.password,
        user.refresh_token,
        user.access_token,
        rotated["refresh_token"],
        device["token"],
        "a-wrong-password",
    ]
    for secret in secrets:
        assert secret not in response.text
        for record in caplog.records:
            assert secret not in record.getMessage()
    assert "hash" not in response.text


def _rows_referencing(db: Engine, user_id: str) -> dict[str, int]:
    found: dict[str, int] = {}
    with db.connect() as conn:
        for table in user_owned_tables():
            count = conn.execute(
                text(f'SELECT COUNT(*) FROM "{table.name}" WHERE user_id = :u'),
                {"u": uuid.UUID(user_id).hex if db.dialect.name == "sqlite" else user_id},
            ).scalar_one()
            if count:
                found[table.name] = count
    return found


def test_delete_me_erases_everything(
    client: TestClient, make_account: AccountFactory, db: Engine
) -> None:
    user, bystander = make_account(), make_account()
    for account in (user, bystander):
        client.post("/v1/me/devices", headers=account.headers, json={"name": "Watch"})
        sign_in(client, account.email, "wrong-password")
    assert _rows_referencing(db, user.id)  # the scan below can find rows

    wrong = client.request(
        "DELETE", "/v1/me", headers=user.headers, json={"password": "not-it-at-all"}
    )
    assert wrong.status_code == 403
    assert client.get("/v1/me", headers=user.headers).status_code == 200

    gone = client.request(
        "DELETE", "/v1/me", headers=user.headers, json={"password": user.password}
    )
    assert gone.status_code == 204
    assert _rows_referencing(db, user.id) == {}
    with db.connect() as conn:
        assert (
            conn.execute(
                text("SELECT COUNT(*) FROM users WHERE email = :e"), {"e": user.email}
            ).scalar_one()
            == 0
        )
        assert (
            conn.execute(
                text("SELECT COUNT(*) FROM login_failures WHERE key LIKE :k"),
                {"k": f"%{user.email}%"},
            ).scalar_one()
            == 0
        )
    assert client.get("/v1/me", headers=user.headers).status_code == 401
    assert (
        client.post("/v1/auth/refresh", json={"refresh_token": user.refresh_token}).status_code
        == 401
    )
    assert sign_in(client, user.email, user.password).status_code == 401
    # The other account is untouched.
    assert _rows_referencing(db, bystander.id)
    assert client.get("/v1/me", headers=bystander.headers).status_code == 200


def test_the_export_covers_every_table_with_personal_data(
    client: TestClient, user: Account
) -> None:
    from api.services.account_data import EXPORT_SECTIONS

    owned = {t.name for t in user_owned_tables()} | {"users", "login_failures"}
    assert owned <= set(EXPORT_SECTIONS), f"not exported: {owned - set(EXPORT_SECTIONS)}"
    export = client.get("/v1/me/export", headers=user.headers).json()
    assert set(EXPORT_SECTIONS.values()) <= set(export)
