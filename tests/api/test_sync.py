"""Delta sync of the lists an app caches (issue 17): `?since=` with tombstones.

An app keeps a copy of each list and asks only for what changed since its last sync:
changed items in `items`, removed ones in `deleted`, oldest change first, so that
applying every page in order leaves the copy equal to the list.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from tests.api.test_clinicians import link
from tests.api.test_wearable import body, send
from tests.conftest import Account, AccountFactory, FakeClock

pytestmark = pytest.mark.usefixtures("seeded")


def at(moment: datetime) -> str:
    return quote(moment.isoformat())


def pages(client: TestClient, user: Account, path: str, **query: Any) -> list[dict[str, Any]]:
    """Every page of a list, following `next_cursor`."""
    out = []
    cursor = None
    while True:
        params = {**query, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, headers=user.headers, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        out.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return out


def replay(cache: dict[str, Any], path_pages: list[dict[str, Any]]) -> dict[str, Any]:
    """What an app does with a delta: upsert changed items, drop removed ones, in order."""
    for page in path_pages:
        events = [(i["updated_at"] if "updated_at" in i else i["created_at"], "put", i)
                  for i in page["items"]]  # fmt: skip
        events += [(d["deleted_at"], "drop", d) for d in page.get("deleted", [])]
        for _, kind, item in sorted(events, key=lambda e: e[0]):
            if kind == "put":
                cache[item["id"]] = item
            else:
                cache.pop(item["id"], None)
    return cache


def register(client: TestClient, user: Account, name: str) -> dict[str, Any]:
    response = client.post("/v1/me/devices", headers=user.headers, json={"name": name})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_revoked_device_comes_back_as_a_tombstone_and_only_with_since(
    client: TestClient, user: Account, make_account: AccountFactory, clock: FakeClock
) -> None:
    other = make_account()
    kept = register(client, user, "Watch")
    gone = register(client, user, "Old band")
    synced = clock.now
    clock.advance(seconds=5)
    assert client.delete(f"/v1/me/devices/{gone['id']}", headers=user.headers).status_code == 204
    # Someone else's revocation is not this person's business.
    theirs = register(client, other, "Theirs")
    client.delete(f"/v1/me/devices/{theirs['id']}", headers=other.headers)

    delta = client.get(f"/v1/me/devices?since={at(synced)}", headers=user.headers).json()
    assert delta["items"] == []
    assert [d["id"] for d in delta["deleted"]] == [gone["id"]]
    assert datetime.fromisoformat(delta["deleted"][0]["deleted_at"]) > synced

    full = client.get("/v1/me/devices", headers=user.headers).json()
    assert [d["id"] for d in full["items"]] == [kept["id"]]
    assert full["deleted"] == []

    # An app that cached both before drops the revoked one.
    cache = {d["id"]: d for d in (kept, gone)}
    assert set(replay(cache, [delta])) == {kept["id"]}


def test_a_device_that_uploads_moves_into_since(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    device = register(client, user, "Band")
    clock.advance(minutes=10)
    synced = clock.now
    headers = {"Authorization": f"Bearer {device['token']}"}
    assert send(client, headers, body()).status_code == 201
    delta = client.get(f"/v1/me/devices?since={at(synced)}", headers=user.headers).json()
    assert [d["id"] for d in delta["items"]] == [device["id"]]
    item = delta["items"][0]
    assert item["last_used_at"] is not None
    assert datetime.fromisoformat(item["updated_at"]) >= synced


def test_uploads_sync_by_change_and_a_revoked_device_moves_its_uploads(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    device = register(client, user, "Band")
    headers = {"Authorization": f"Bearer {device['token']}"}
    first = send(client, headers, body(), key="a").json()
    clock.advance(minutes=1)
    synced = clock.now
    clock.advance(minutes=1)
    second = send(client, headers, body(device_session_id="rec-2"), key="b").json()

    delta = client.get(f"/v1/me/uploads?since={at(synced)}", headers=user.headers).json()
    assert [u["id"] for u in delta["items"]] == [second["id"]]

    clock.advance(minutes=1)
    synced = clock.now
    client.delete(f"/v1/me/devices/{device['id']}", headers=user.headers)
    delta = client.get(f"/v1/me/uploads?since={at(synced)}", headers=user.headers).json()
    # Oldest change first; both lost their device at once, so by id.
    assert {u["id"] for u in delta["items"]} == {first["id"], second["id"]}
    assert all(u["device_id"] is None for u in delta["items"])


def test_an_ended_clinician_link_comes_back_as_a_tombstone(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    patient, clinician = make_account(), make_account("clinician")
    linked = link(client, patient, clinician)
    synced = clock.now
    clock.advance(seconds=5)
    assert (
        client.delete(f"/v1/me/clinicians/{linked['id']}", headers=patient.headers).status_code
        == 204
    )
    delta = client.get(f"/v1/me/clinicians?since={at(synced)}", headers=patient.headers).json()
    assert delta["items"] == []
    assert [d["id"] for d in delta["deleted"]] == [linked["id"]]
    assert client.get("/v1/me/clinicians", headers=patient.headers).json() == {
        "items": [],
        "deleted": [],
        "next_cursor": None,
    }


def test_a_clinician_who_renames_or_deletes_their_account_reaches_the_patients_sync(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    patient, clinician = make_account(), make_account("clinician")
    linked = link(client, patient, clinician)
    clock.advance(seconds=5)
    synced = clock.now
    renamed = client.patch("/v1/me", headers=clinician.headers, json={"display_name": "Dr Lee"})
    assert renamed.status_code == 200, renamed.text
    delta = client.get(f"/v1/me/clinicians?since={at(synced)}", headers=patient.headers).json()
    assert [(i["id"], i["clinician"]["display_name"]) for i in delta["items"]] == [
        (linked["id"], "Dr Lee")
    ]

    clock.advance(seconds=5)
    synced = clock.now
    erased = client.request(
        "DELETE", "/v1/me", headers=clinician.headers, json={"password": clinician.password}
    )
    assert erased.status_code == 204, erased.text
    delta = client.get(f"/v1/me/clinicians?since={at(synced)}", headers=patient.headers).json()
    assert delta["items"] == []
    assert [d["id"] for d in delta["deleted"]] == [linked["id"]]
    # The patient's export keeps what their lists lost.
    export = client.get("/v1/me/export", headers=patient.headers).json()
    assert [(r["kind"], r["id"]) for r in export["removed"]] == [("clinician_link", linked["id"])]


def test_pages_of_a_delta_miss_nothing_and_repeat_nothing(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    """Changes and tombstones interleaved over several pages, in either stream's excess."""
    synced = clock.now - timedelta(seconds=1)
    devices = [register(client, user, f"Device {i}") for i in range(7)]
    for d in devices[1:6:2]:
        client.delete(f"/v1/me/devices/{d['id']}", headers=user.headers)
    devices += [register(client, user, f"Late {i}") for i in range(4)]
    for limit in (1, 2, 3, 100):
        got = pages(client, user, "/v1/me/devices", since=synced.isoformat(), limit=limit)
        ids = [i["id"] for p in got for i in p["items"]]
        dead = [d["id"] for p in got for d in p["deleted"]]
        assert len(ids) == len(set(ids)) == 8, limit
        assert dead == [d["id"] for d in devices[1:6:2]], limit
        assert all(len(p["items"]) + len(p["deleted"]) <= limit for p in got)
        cache = replay({}, got)
        full = client.get("/v1/me/devices", headers=user.headers).json()["items"]
        assert set(cache) == {d["id"] for d in full}


def test_advice_history_since_gives_entries_stored_since_oldest_first(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    def checkin(pain: int) -> None:
        response = client.post(
            "/v1/checkins",
            headers=user.headers,
            json={"recorded_at": clock.now.isoformat(), "phase": "daily", "pain": pain},
        )
        assert response.status_code == 201, response.text

    checkin(2)
    clock.advance(seconds=5)
    synced = clock.now
    clock.advance(hours=1)
    checkin(9)  # a jump: the advice changes
    history = client.get("/v1/advice/history", headers=user.headers).json()["items"]
    delta = client.get(f"/v1/advice/history?since={at(synced)}", headers=user.headers).json()
    newer = [h for h in history if datetime.fromisoformat(h["evaluated_at"]) >= synced]
    assert newer, "the second check-in stored new advice"
    assert [h["id"] for h in delta["items"]] == [h["id"] for h in reversed(newer)]
    assert len(delta["items"]) < len(history)


def test_since_must_carry_an_offset(client: TestClient, user: Account) -> None:
    naive = datetime.now(UTC).replace(tzinfo=None).isoformat()
    for path in ("/v1/me/devices", "/v1/me/clinicians", "/v1/me/uploads", "/v1/advice/history"):
        response = client.get(path, headers=user.headers, params={"since": naive})
        assert response.status_code == 422, path
        assert response.json()["errors"][0]["field"] == "since"


def test_a_check_in_keeps_the_offset_it_was_sent_with_and_answers_in_one_form(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    local = clock.now.astimezone(timezone(timedelta(hours=5, minutes=30))).replace(microsecond=0)
    sent = {"recorded_at": local.isoformat(), "phase": "daily", "pain": 3}
    stored = client.post("/v1/checkins", headers=user.headers, json=sent)
    assert stored.status_code == 201, stored.text
    checkin = stored.json()["checkin"]
    assert checkin["recorded_offset"] == "+05:30"
    # The same instant, in UTC with `Z` and six fractional digits, whatever was sent.
    assert checkin["recorded_at"] == local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    assert datetime.fromisoformat(checkin["recorded_at"]) == local
    west = (clock.now - timedelta(hours=1)).astimezone(timezone(timedelta(hours=-3)))
    sent = {"recorded_at": west.isoformat(), "phase": "daily", "pain": 3}
    listed = client.post("/v1/checkins", headers=user.headers, json=sent).json()["checkin"]
    assert listed["recorded_offset"] == "-03:00"
    got = client.get(f"/v1/checkins/{listed['id']}", headers=user.headers).json()
    assert got["recorded_offset"] == "-03:00"


def test_a_device_id_registered_again_after_revocation_is_live_not_deleted(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    ident = "5b1a4c3e-1111-4d2e-9a6b-0c1d2e3f4a5b"
    synced = clock.now
    first = client.post("/v1/me/devices", headers=user.headers, json={"id": ident, "name": "W"})
    assert first.status_code == 201, first.text
    client.delete(f"/v1/me/devices/{ident}", headers=user.headers)
    clock.advance(minutes=10)  # past the retry window: a new registration, a new token
    again = client.post("/v1/me/devices", headers=user.headers, json={"id": ident, "name": "W"})
    assert again.status_code == 201, again.text
    delta = client.get(f"/v1/me/devices?since={at(synced)}", headers=user.headers).json()
    # Whatever order an app applies `items` and `deleted` in, the device stays.
    assert [d["id"] for d in delta["items"]] == [ident]
    assert delta["deleted"] == []


def test_a_delta_of_a_filtered_upload_list_is_refused(client: TestClient, user: Account) -> None:
    since = datetime.now(UTC).isoformat()
    response = client.get(
        "/v1/me/uploads", headers=user.headers, params={"since": since, "matched": "false"}
    )
    assert response.status_code == 422
    assert [(e["field"], e["in"], e["code"]) for e in response.json()["errors"]] == [
        ("since", "query", "conflict")
    ]


def test_changes_and_tombstones_at_the_same_instant_page_by_id(
    client: TestClient, user: Account, db: Engine
) -> None:
    """Ties on the time: live rows and tombstones at one instant, paged one by one, come
    each exactly once, in id order (the cursor carries the id)."""
    from sqlmodel import Session

    from api.models import Device, Tombstone
    from api.services import sync

    instant = datetime.now(UTC) - timedelta(minutes=1)
    owner = uuid.UUID(user.id)
    with Session(db) as s:
        for i in range(5):
            s.add(Device(user_id=owner, name=f"D{i}", token_hash=f"h{i}", token_prefix="p",
                         created_at=instant, updated_at=instant))  # fmt: skip
            s.add(Tombstone(user_id=owner, kind="device", item_id=uuid.uuid4(),
                            deleted_at=instant))  # fmt: skip
        s.commit()
        expected = sorted(
            [("live", d.id) for d in s.exec(select(Device)).all()]
            + [("gone", t.id) for t in s.exec(select(Tombstone)).all()],
            key=lambda e: e[1],
        )
        for limit in (1, 2, 3, 4):
            seen: list[tuple[str, uuid.UUID]] = []
            cursor = None
            while True:
                rows, gone, cursor = sync.changed_page(
                    s, select(Device).where(Device.user_id == owner), time_col=Device.updated_at,
                    id_col=Device.id, owner_id=owner, kind="device", since=instant, limit=limit,
                    cursor=cursor,
                )  # fmt: skip
                page = [("live", r.id) for r in rows] + [("gone", t.id) for t in gone]
                assert len(page) <= limit
                seen += sorted(page, key=lambda e: e[1])
                if cursor is None:
                    break
            assert seen == expected, limit
