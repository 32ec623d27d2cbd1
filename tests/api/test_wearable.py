"""Wearable uploads as watches send them: retries, duplicates, gzip, size limits."""

from __future__ import annotations

import gzip
import json
import threading
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.services import wearable, wearable_summaries
from tests.conftest import Account, AccountFactory, FakeClock

START = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def samples(count: int, start: datetime = START, bpm: Any = None) -> list[dict[str, Any]]:
    return [
        {
            "t": (start + timedelta(seconds=i)).isoformat(),
            "bpm": bpm(i) if bpm else 60 + (i % 60),
        }
        for i in range(count)
    ]


def body(count: int = 10, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "device_session_id": "rec-1",
        "started_at": START.isoformat(),
        "ended_at": (START + timedelta(seconds=max(count, 60))).isoformat(),
        "heart_rate": samples(count),
        "reps": [],
        "device_model": "Band 7",
        "software_version": "1.2.3",
    }
    out.update(fields)
    return out


@pytest.fixture
def device(client: TestClient, user: Account) -> dict[str, str]:
    token = client.post("/v1/me/devices", headers=user.headers, json={"name": "Band"}).json()[
        "token"
    ]
    return {"Authorization": f"Bearer {token}"}


def send(
    client: TestClient,
    headers: dict[str, str],
    payload: Any,
    key: str | None = "k1",
    gzipped: bool = False,
    extra: dict[str, str] | None = None,
) -> Any:
    raw = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
    h = {**headers, "Content-Type": "application/json", **(extra or {})}
    if key is not None:
        h["Idempotency-Key"] = key
    if gzipped:
        raw = gzip.compress(raw)
        h["Content-Encoding"] = "gzip"
    return client.post("/v1/wearable/uploads", headers=h, content=raw)


def count_uploads(db: Engine) -> int:
    with db.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM wearable_uploads")).scalar_one())


def test_idempotency_key_is_required(client: TestClient, device: dict[str, str]) -> None:
    response = send(client, device, body(), key=None)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_same_key_same_body_replays(client: TestClient, device: dict[str, str], db: Engine) -> None:
    first = send(client, device, body())
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = send(client, device, body())
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    # The same content gzipped is the same request.
    zipped = send(client, device, body(), gzipped=True)
    assert zipped.headers["idempotent-replayed"] == "true"
    assert count_uploads(db) == 1


def test_same_key_other_body_is_422(client: TestClient, device: dict[str, str], db: Engine) -> None:
    assert send(client, device, body()).status_code == 201
    other = send(client, device, body(energy_kcal=12.5))
    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    assert count_uploads(db) == 1


def in_offset(payload: dict[str, Any], zone: timezone) -> dict[str, Any]:
    """The same upload with every time written in another UTC offset."""

    def moved(moment: str) -> str:
        return datetime.fromisoformat(moment).astimezone(zone).isoformat()

    return {
        **payload,
        "started_at": moved(payload["started_at"]),
        "ended_at": moved(payload["ended_at"]),
        "heart_rate": [{**s, "t": moved(s["t"])} for s in payload["heart_rate"]],
        "reps": [{**r, "t": moved(r["t"])} for r in payload["reps"]],
    }


def test_same_key_same_upload_in_another_offset_replays(
    client: TestClient, device: dict[str, str], db: Engine
) -> None:
    payload = body(reps=[{"t": (START + timedelta(seconds=5)).isoformat(), "count": 3}])
    first = send(client, device, payload)
    assert first.status_code == 201, first.text
    for zone in (timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))):
        shifted = in_offset(payload, zone)
        written = [shifted["started_at"], shifted["ended_at"]]
        written += [s["t"] for s in shifted["heart_rate"]] + [r["t"] for r in shifted["reps"]]
        assert all(not t.endswith("+00:00") for t in written), written
        again = send(client, device, shifted)
        assert again.status_code == 201, again.text
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
    # A time one second later, in another offset, is still another body.
    later = in_offset(payload, timezone(timedelta(hours=-5)))
    later["ended_at"] = (
        datetime.fromisoformat(later["ended_at"]) + timedelta(seconds=1)
    ).isoformat()
    other = send(client, device, later)
    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    assert count_uploads(db) == 1


def test_keys_expire_after_a_day_and_are_per_device(
    client: TestClient, user: Account, device: dict[str, str], clock: FakeClock, db: Engine
) -> None:
    assert send(client, device, body()).status_code == 201
    token = client.post("/v1/me/devices", headers=user.headers, json={"name": "Watch"}).json()
    other = {"Authorization": f"Bearer {token['token']}"}
    assert send(client, other, body(energy_kcal=1.0)).status_code == 201  # same key, other device
    clock.advance(hours=25)
    reused = send(client, device, body(energy_kcal=9.0))
    assert reused.status_code == 201
    assert "idempotent-replayed" not in reused.headers
    assert count_uploads(db) == 2


def _db_time(db: Engine, moment: datetime) -> datetime:
    # Raw SQL bypasses the UTC column type: SQLite stores naive UTC.
    return moment.replace(tzinfo=None) if db.dialect.name == "sqlite" else moment


def test_a_retry_while_the_first_is_in_flight_is_409(
    client: TestClient, device: dict[str, str], db: Engine
) -> None:
    assert send(client, device, body()).status_code == 201
    with db.begin() as conn:
        device_row = conn.execute(text("SELECT id FROM devices")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO idempotency_keys (device_id, key, request_hash, in_flight, "
                "created_at, expires_at) VALUES (:d, 'busy', :h, :f, :c, :e)"
            ),
            {
                "d": device_row,
                "h": wearable.request_hash(wearable.parse(json.dumps(body()).encode())),
                "f": True,
                "c": datetime.now(UTC).replace(tzinfo=None)
                if db.dialect.name == "sqlite"
                else datetime.now(UTC),
                "e": (datetime.now(UTC) + timedelta(days=2)).replace(tzinfo=None)
                if db.dialect.name == "sqlite"
                else datetime.now(UTC) + timedelta(days=2),
            },
        )
    busy = send(client, device, body(), key="busy")
    assert busy.status_code == 409
    assert busy.headers["retry-after"] == "1"
    assert count_uploads(db) == 1


def test_two_concurrent_identical_uploads_store_once(
    app: FastAPI, device: dict[str, str], db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = wearable.store_upload

    def slow_store(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)  # keep the first request in flight while the second arrives
        return real(*args, **kwargs)

    monkeypatch.setattr(wearable, "store_upload", slow_store)
    results: list[Any] = []

    def run() -> None:
        with TestClient(app) as c:
            results.append(send(c, device, body(count=50), key="twin"))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert codes in ([201, 409], [201, 201])
    replays = [r for r in results if r.headers.get("idempotent-replayed") == "true"]
    assert codes == [201, 409] or len(replays) == 1
    assert count_uploads(db) == 1
    with db.connect() as conn:
        assert conn.execute(text("SELECT sample_count FROM wearable_uploads")).scalar_one() == 50


@pytest.mark.parametrize("gzipped", [False, True])
def test_an_hour_at_1hz_is_stored_once_with_a_correct_summary(
    client: TestClient, device: dict[str, str], db: Engine, gzipped: bool
) -> None:
    hour = samples(3600, bpm=lambda i: 70 + (i % 41))  # 70..110
    payload = body(heart_rate=hour, ended_at=(START + timedelta(hours=1)).isoformat())
    response = send(client, device, payload, gzipped=gzipped)
    assert response.status_code == 201, response.text
    summary = response.json()["summary"]
    values = [70 + (i % 41) for i in range(3600)]
    assert summary["duration_seconds"] == 3600
    assert summary["heart_rate"] == {
        "min": 70,
        "avg": round(sum(values) / 3600, 1),
        "max": 110,
        "samples": 3600,
    }
    assert summary["zones"] is None  # no birth year in the profile
    assert count_uploads(db) == 1
    with db.connect() as conn:
        stored = conn.execute(text("SELECT heart_rate FROM wearable_uploads")).scalar_one()
    assert len(stored) < 3600 * 2  # compact: under 2 bytes a sample
    assert wearable_summaries.unpack_heart_rate(stored) == [(i, v) for i, v in enumerate(values)]


def test_duplicates_unordered_and_merged_recordings(
    client: TestClient, device: dict[str, str], db: Engine
) -> None:
    first = samples(100)
    shuffled = list(reversed(first)) + first[:10]  # out of order, with repeats
    response = send(
        client,
        device,
        body(heart_rate=shuffled, ended_at=(START + timedelta(minutes=5)).isoformat()),
    )
    assert response.json()["summary"]["heart_rate"]["samples"] == 100
    # The watch re-sends the recording with more data: it merges, without duplicates.
    overlap = samples(150, start=START + timedelta(seconds=50))
    merged = send(
        client,
        device,
        body(heart_rate=overlap, ended_at=(START + timedelta(minutes=5)).isoformat()),
        key="k2",
    )
    assert merged.status_code == 201
    assert merged.json()["id"] == response.json()["id"]
    assert merged.json()["summary"]["heart_rate"]["samples"] == 200
    assert count_uploads(db) == 1


def test_matching_and_unmatched_uploads(
    client: TestClient, user: Account, device: dict[str, str], clock: FakeClock, seeded: Any
) -> None:
    built = client.post(
        "/v1/sessions", headers=user.headers, json={"minutes": 30, "equipment": []}
    ).json()
    clock.now = START + timedelta(minutes=30)
    log = {
        "started_at": START.isoformat(),
        "ended_at": (START + timedelta(minutes=25)).isoformat(),
        "entries": [{"exercise_slug": "glute-bridge", "sets_completed": 1, "reps": [5]}],
    }
    assert (
        client.put(f"/v1/sessions/{built['id']}/log", headers=user.headers, json=log).status_code
        == 200
    )
    by_time = send(
        client,
        device,
        body(
            count=120,
            reps=[
                {
                    "t": (START + timedelta(seconds=30)).isoformat(),
                    "exercise_slug": "glute-bridge",
                    "count": 5,
                },
                {"t": (START + timedelta(seconds=40)).isoformat(), "count": 3},
            ],
        ),
    )
    assert by_time.status_code == 201, by_time.text
    assert by_time.json()["matched_session_id"] == built["id"]
    assert by_time.json()["summary"]["reps"] == {"glute-bridge": 5, "unknown": 3}
    by_id = send(client, device, body(device_session_id="rec-2", session_id=built["id"]), key="k2")
    assert by_id.json()["matched_session_id"] == built["id"]
    far = START - timedelta(days=2)
    lonely = send(
        client,
        device,
        body(
            device_session_id="rec-3",
            started_at=far.isoformat(),
            ended_at=(far + timedelta(minutes=10)).isoformat(),
            heart_rate=samples(5, start=far),
        ),
        key="k3",
    )
    assert lonely.json()["matched_session_id"] is None
    session = client.get(f"/v1/sessions/{built['id']}", headers=user.headers).json()
    assert session["wearable"]["heart_rate"]["samples"] == 130
    assert session["wearable"]["reps"] == {"glute-bridge": 5, "unknown": 3}
    unmatched = client.get("/v1/me/uploads", headers=user.headers, params={"matched": False}).json()
    assert [u["id"] for u in unmatched["items"]] == [lonely.json()["id"]]
    assert len(client.get("/v1/me/uploads", headers=user.headers).json()["items"]) == 3


def test_an_upload_matched_to_a_session_moves_it_into_since(
    client: TestClient, user: Account, device: dict[str, str], clock: FakeClock, seeded: Any
) -> None:
    """An app syncing sessions with `since` sees the wearable summary an upload added."""
    built = client.post(
        "/v1/sessions", headers=user.headers, json={"minutes": 30, "equipment": []}
    ).json()
    clock.advance(minutes=5)
    mark = clock.now

    def changed_since() -> list[Any]:
        page = client.get("/v1/sessions", headers=user.headers, params={"since": mark.isoformat()})
        return list(page.json()["items"])

    assert changed_since() == []
    clock.advance(minutes=5)
    by_id = send(client, device, body(session_id=built["id"]))
    assert by_id.json()["matched_session_id"] == built["id"]
    [synced] = changed_since()
    assert synced["id"] == built["id"] and synced["wearable"]["heart_rate"]["samples"] == 10
    assert datetime.fromisoformat(synced["updated_at"]) == clock.now


def test_zones_from_the_birth_year(
    client: TestClient, user: Account, device: dict[str, str]
) -> None:
    client.patch("/v1/me", headers=user.headers, json={"birth_year": 1976})
    response = send(client, device, body(heart_rate=samples(60, bpm=lambda i: 150)))
    zones = response.json()["summary"]["zones"]
    age = datetime.now(UTC).year - 1976
    hr_max = 208 - 0.7 * age
    assert [z["zone"] for z in zones] == [1, 2, 3, 4, 5]
    assert zones[0]["low_bpm"] == round(hr_max * 0.5)
    hit = [z for z in zones if z["seconds"]]
    assert len(hit) == 1 and hit[0]["seconds"] == 60
    assert hit[0]["low_bpm"] <= 150 < hit[0]["high_bpm"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"heart_rate": [{"t": START.isoformat(), "bpm": 300}]}, "heart_rate.0.bpm"),
        (
            {"heart_rate": [{"t": (START - timedelta(hours=1)).isoformat(), "bpm": 80}]},
            "heart_rate.0.t",
        ),
        ({"heart_rate": [{"t": "2026-11-20T18:00:00", "bpm": 80}]}, "heart_rate.0.t"),
        ({"reps": [{"t": START.isoformat(), "exercise_slug": "moonwalk", "count": 1}]}, "reps"),
        ({"session_id": str(uuid.uuid4())}, "session_id"),
        ({"ended_at": START.isoformat()}, "ended_at"),
        ({"user_id": "x"}, "user_id"),
    ],
)
def test_bad_uploads_name_the_field_and_free_the_key(
    client: TestClient,
    device: dict[str, str],
    db: Engine,
    seeded: Any,
    change: dict[str, Any],
    field: str,
) -> None:
    response = send(client, device, {**body(), **change})
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert count_uploads(db) == 0
    # Nothing was stored, so the key is free for the corrected upload.
    assert send(client, device, body()).status_code == 201


def test_media_type_and_encoding(client: TestClient, device: dict[str, str]) -> None:
    raw = json.dumps(body()).encode()
    plain = client.post(
        "/v1/wearable/uploads",
        headers={**device, "Idempotency-Key": "a", "Content-Type": "text/plain"},
        content=raw,
    )
    assert plain.status_code == 415
    brotli = send(client, device, raw, key="b", extra={"Content-Encoding": "br"})
    assert brotli.status_code == 415
    corrupt = send(
        client, device, b"\x1f\x8b\x08\x00garbage", key="c", extra={"Content-Encoding": "gzip"}
    )
    assert corrupt.status_code == 400
    truncated = send(
        client, device, gzip.compress(raw)[:-12], key="d", extra={"Content-Encoding": "gzip"}
    )
    assert truncated.status_code == 400


def test_a_day_at_1hz_fits(client: TestClient, device: dict[str, str]) -> None:
    day = samples(86_400, bpm=lambda i: 60 + i % 30)
    payload = body(heart_rate=day, ended_at=(START + timedelta(days=1)).isoformat())
    response = send(client, device, payload, gzipped=True)
    assert response.status_code == 201, response.text[:300]
    assert response.json()["summary"]["heart_rate"]["samples"] == 86_400


def _bomb(inflated_mb: int, members: int = 1) -> bytes:
    member = gzip.compress(b"0" * (inflated_mb * 1024 * 1024), 9)
    return member * members


def test_oversized_bodies_are_413(client: TestClient, device: dict[str, str]) -> None:
    big = b'{"pad": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    assert send(client, device, big).status_code == 413


def test_a_gzip_bomb_is_refused_with_bounded_memory(
    client: TestClient, device: dict[str, str]
) -> None:
    # About 10 MB as sent (100 members of 100 MB of zeros each: 10 GB inflated).
    bomb = _bomb(100, members=100)
    assert len(bomb) > 9 * 1024 * 1024

    def chunks() -> Iterator[bytes]:  # streamed, with no Content-Length to trust
        for i in range(0, len(bomb), 64 * 1024):
            yield bomb[i : i + 64 * 1024]

    tracemalloc.start()
    try:
        declared = send(client, device, bomb, extra={"Content-Encoding": "gzip"})
        streamed = client.post(
            "/v1/wearable/uploads",
            headers={
                **device,
                "Idempotency-Key": "s",
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
            },
            content=chunks(),
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert streamed.json()["type"] == "/problems/payload-too-large"
    # The test itself holds the 10 MB bomb; the server adds at most its 16 MB limit.
    assert peak < 64 * 1024 * 1024


def test_device_tokens_read_nothing_and_people_cannot_upload(
    client: TestClient, make_account: AccountFactory, device: dict[str, str]
) -> None:
    person = make_account()
    assert send(client, person.headers, body()).status_code == 401
    for path in ("/v1/me", "/v1/me/uploads", "/v1/sessions", "/v1/advice", "/v1/checkins"):
        assert client.get(path, headers=device).status_code == 401, path


def test_uploads_are_in_the_export_with_their_samples(
    client: TestClient, user: Account, device: dict[str, str]
) -> None:
    send(client, device, body(count=30))
    export = client.get("/v1/me/export", headers=user.headers).json()
    [upload] = export["wearable_uploads"]
    assert len(upload["heart_rate"]) == 30
    assert upload["heart_rate"][0][1] == 60
    assert '"token":' not in json.dumps(export["devices"])


def test_concurrent_uploads_of_one_recording_merge_without_loss(
    app: FastAPI, device: dict[str, str], db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = wearable_summaries.summarise

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.2)  # hold the recording while the other upload arrives
        return real(*args, **kwargs)

    monkeypatch.setattr(wearable, "summarise", slow)
    parts = [samples(15), samples(10, start=START + timedelta(seconds=15))]
    results: list[Any] = []

    def run(index: int) -> None:
        with TestClient(app) as c:
            results.append(send(c, device, body(heart_rate=parts[index]), key=f"part-{index}"))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [201, 201]
    assert count_uploads(db) == 1
    with db.connect() as conn:
        assert conn.execute(text("SELECT sample_count FROM wearable_uploads")).scalar_one() == 25


def test_samples_in_different_seconds_are_both_kept(
    client: TestClient, device: dict[str, str]
) -> None:
    start = START + timedelta(milliseconds=500)
    payload = body(
        started_at=start.isoformat(),
        heart_rate=[
            {"t": (start + timedelta(milliseconds=400)).isoformat(), "bpm": 80},  # :00.9
            {"t": (start + timedelta(milliseconds=700)).isoformat(), "bpm": 81},  # :01.2
            {"t": (start + timedelta(milliseconds=800)).isoformat(), "bpm": 99},  # :01.3, dup
        ],
    )
    summary = send(client, device, payload).json()["summary"]
    assert summary["heart_rate"]["samples"] == 2
    assert summary["heart_rate"]["max"] == 81


def test_too_many_samples_is_413(client: TestClient, device: dict[str, str]) -> None:
    short = [{"t": START.isoformat(), "bpm": 60}] * 100_001
    response = send(client, device, body(heart_rate=short), gzipped=True)
    assert response.status_code == 413


def test_two_devices_recording_one_session_are_not_counted_twice(
    client: TestClient, user: Account, device: dict[str, str], clock: FakeClock, seeded: Any
) -> None:
    built = client.post("/v1/sessions", headers=user.headers, json={"minutes": 30}).json()
    token = client.post("/v1/me/devices", headers=user.headers, json={"name": "Watch"}).json()
    watch = {"Authorization": f"Bearer {token['token']}"}
    reps = [{"t": (START + timedelta(seconds=30)).isoformat(), "exercise_slug": "glute-bridge",
             "count": 5}]  # fmt: skip
    send(client, device, body(session_id=built["id"], reps=reps))
    send(client, watch, body(session_id=built["id"], reps=reps, device_session_id="w-1"))
    summary = client.get(f"/v1/sessions/{built['id']}", headers=user.headers).json()["wearable"]
    assert summary["reps"] == {"glute-bridge": 5}
    assert summary["duration_seconds"] == 60
    assert summary["heart_rate"]["samples"] == 20  # both devices' samples count for heart rate
    # Both devices revoked: their uploads are still not added up, and the session has
    # changed for an app syncing with `since`.
    clock.advance(minutes=1)
    mark = clock.now
    for made in client.get("/v1/me/devices", headers=user.headers).json()["items"]:
        client.delete(f"/v1/me/devices/{made['id']}", headers=user.headers)
    synced = client.get("/v1/sessions", headers=user.headers, params={"since": mark.isoformat()})
    [after] = synced.json()["items"]
    assert after["id"] == built["id"] and after["wearable"]["reps"] == {"glute-bridge": 5}
