"""Health Connect imports (issue 20): records as the platform gives them, stored once,
summarised and matched, with the record's id, offsets and segments kept (the records, as
the platforms document them, are in tests/api/platform_records.py)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.services.health_platforms import load_platform_maps
from api.services.seed import load_seed
from tests.api.platform_records import at, health_connect, healthkit, send, send_hk
from tests.conftest import Account, AccountFactory, FakeClock

# The segment types' mapping is seeded with the catalog it maps to.
pytestmark = pytest.mark.usefixtures("seeded")


@pytest.fixture
def device(client: TestClient, user: Account) -> dict[str, str]:
    made = client.post("/v1/me/devices", headers=user.headers, json={"name": "Pixel"})
    return {"Authorization": f"Bearer {made.json()['token']}"}


def stored(db: Engine) -> list[Any]:
    with db.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT source, platform_record_id, exercise_type, start_offset_minutes, "
                    "end_offset_minutes, sample_count, session_id FROM wearable_uploads"
                )
            )
        )


def test_every_mapped_segment_names_a_catalog_exercise() -> None:
    slugs = {e.slug for e in load_seed().exercises}
    mapped = {s for s in load_platform_maps().health_connect.segment_types.values() if s}
    assert mapped and mapped <= slugs


def test_a_health_connect_session_imports_summarises_and_keeps_what_the_platform_said(
    client: TestClient, user: Account, device: dict[str, str], db: Engine
) -> None:
    answer = send(client, device, health_connect())
    assert answer.status_code == 201, answer.text
    found = answer.json()
    # Reps by the catalog exercise each segment type maps to; rest and unmapped add none.
    assert found["summary"]["reps"] == {"glute-bridge": 10, "back-extension": 8}
    assert found["summary"]["heart_rate"]["samples"] == 600
    assert found["summary"]["duration_seconds"] == 1200
    assert found["dropped_samples"] == 10  # the minute before the session
    assert found["unmapped_segment_types"] == ["EXERCISE_SEGMENT_TYPE_KETTLEBELL_SWING"]
    assert [(s["segment_type"], s["exercise_slug"]) for s in found["segments"]] == [
        ("EXERCISE_SEGMENT_TYPE_HIP_THRUST", "glute-bridge"),
        ("EXERCISE_SEGMENT_TYPE_REST", None),
        ("EXERCISE_SEGMENT_TYPE_BACK_EXTENSION", "back-extension"),
        ("EXERCISE_SEGMENT_TYPE_KETTLEBELL_SWING", None),
    ]
    assert found["platform_record_id"] == "3b1c9a8e-5f0d-4c1e-9d2a-7e6f5a4b3c2d"
    assert found["matched_session_id"] is None and found["unmatched_reason"] is None
    assert stored(db) == [
        ("health_connect", found["platform_record_id"], "EXERCISE_TYPE_STRENGTH_TRAINING",
         60, 60, 600, None),
    ]  # fmt: skip
    # The person's list (and export) shows it as imported, at its own offsets.
    (listed,) = client.get("/v1/me/uploads", headers=user.headers).json()["items"]
    assert (listed["source"], listed["start_offset"], listed["end_offset"]) == (
        "health_connect",
        "+01:00",
        "+01:00",
    )
    assert listed["segments"] == found["segments"]
    exported = client.get("/v1/me/export", headers=user.headers).json()["wearable_uploads"]
    assert [u["platform_record_id"] for u in exported] == [found["platform_record_id"]]


def test_the_same_record_imported_again_under_another_key_is_stored_once(
    client: TestClient, device: dict[str, str], db: Engine
) -> None:
    first = send(client, device, health_connect(), key="k1").json()
    again = send(client, device, health_connect(), key="k2")
    assert again.status_code == 201
    assert again.json()["id"] == first["id"]
    assert again.json()["summary"] == first["summary"]
    assert len(stored(db)) == 1
    # The same key and body replay the first answer; another record is another recording.
    replay = send(client, device, health_connect(), key="k1")
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json() == first
    other = send(client, device, health_connect(record_id="another"), key="k3").json()
    assert other["id"] != first["id"] and len(stored(db)) == 2


def test_an_import_matches_the_logged_session_it_overlaps(
    client: TestClient, user: Account, device: dict[str, str], clock: FakeClock
) -> None:
    built = client.post("/v1/sessions", headers=user.headers, json={"equipment": ["mat"]}).json()
    item = next(i for i in built["items"] if i["block"] != "warmup")
    entry = {"exercise_slug": item["exercise_slug"], "sets_completed": 1, "reps": [5]}
    log = {"started_at": at(0), "ended_at": at(1200), "entries": [entry]}
    logged = client.put(f"/v1/sessions/{built['id']}/log", headers=user.headers, json=log)
    assert logged.status_code == 200, logged.text
    found = send(client, device, health_connect()).json()
    assert found["matched_session_id"] == built["id"]
    # A run at the same time is stored, but never taken for the session.
    run = send(client, device, health_connect("run-1", "EXERCISE_TYPE_RUNNING"), key="k2").json()
    assert run["matched_session_id"] is None
    assert "EXERCISE_TYPE_RUNNING" in run["unmatched_reason"]


def test_a_gzipped_import_is_read_as_a_plain_one(
    client: TestClient, device: dict[str, str]
) -> None:
    answer = send(client, device, health_connect(), gzipped="1")
    assert answer.status_code == 201, answer.text
    assert answer.json()["summary"]["reps"] == {"glute-bridge": 10, "back-extension": 8}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["exerciseSession"].update(exerciseType=16), "exerciseSession.exerciseType"),
        (
            lambda b: b["exerciseSession"]["segments"][0].update(segmentType=27),
            "exerciseSession.segments.0.segmentType",
        ),
        (lambda b: b["exerciseSession"].update(endTime=at(-1)), "exerciseSession.endTime"),
        (
            lambda b: b["exerciseSession"]["segments"][1].update(endTime=at(5000)),
            "exerciseSession.segments.1",
        ),
        (lambda b: b["exerciseSession"]["metadata"].pop("id"), "exerciseSession.metadata.id"),
        (lambda b: b["exerciseSession"].update(startZoneOffset="+25:00"),
         "exerciseSession.startZoneOffset"),
        (lambda b: b["heartRate"][0]["samples"][0].update(beatsPerMinute=0),
         "heartRate.0.samples.0.beatsPerMinute"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field_as_sent_and_stores_nothing(
    client: TestClient, device: dict[str, str], db: Engine, change: Any, field: str
) -> None:
    payload = health_connect()
    change(payload)
    answer = send(client, device, payload)
    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert stored(db) == []


def test_the_persons_own_token_imports_too_under_keys_of_their_own(
    client: TestClient,
    user: Account,
    device: dict[str, str],
    db: Engine,
    make_account: AccountFactory,
) -> None:
    mine = send(client, user.headers, health_connect(), key="k1")
    assert mine.status_code == 201, mine.text
    (listed,) = client.get("/v1/me/uploads", headers=user.headers).json()["items"]
    assert (listed["id"], listed["device_id"]) == (mine.json()["id"], None)
    # The person's keys replay their own requests, and refuse another body...
    replay = send(client, user.headers, health_connect(), key="k1")
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json() == mine.json()
    reused = send(client, user.headers, health_connect(record_id="other"), key="k1")
    assert reused.status_code == 422 and reused.json()["type"] == "/problems/idempotency-key-reused"
    # ...and are not a device's: the same key from the watch is its own request, and the
    # same record is still the same recording.
    watch = send(client, device, health_connect(), key="k1")
    assert watch.status_code == 201 and "Idempotent-Replayed" not in watch.headers
    assert watch.json()["id"] == mine.json()["id"] and len(stored(db)) == 1
    # Another person's import of a record with the same id is theirs alone.
    other = make_account()
    theirs = send(client, other.headers, health_connect(), key="k1")
    assert theirs.status_code == 201 and theirs.json()["id"] != mine.json()["id"]
    assert len(client.get("/v1/me/uploads", headers=user.headers).json()["items"]) == 1


def test_a_healthkit_workout_imports_with_its_time_zones_offsets(
    client: TestClient, user: Account, device: dict[str, str], db: Engine
) -> None:
    answer = send_hk(client, device, healthkit())
    assert answer.status_code == 201, answer.text
    found = answer.json()
    assert found["summary"]["heart_rate"]["samples"] == 240
    assert found["summary"]["energy_kcal"] == 100.0  # 418.4 kJ
    assert found["summary"]["reps"] == {}  # HealthKit has no segments: the log has them
    assert (found["dropped_samples"], found["segments"]) == (1, [])
    (listed,) = client.get("/v1/me/uploads", headers=user.headers).json()["items"]
    assert (listed["source"], listed["start_offset"], listed["exercise_type"]) == (
        "healthkit",
        "-05:00",
        "traditionalStrengthTraining",
    )
    # The same workout again, under another key: the same recording.
    again = send_hk(client, device, healthkit(), key="k2").json()
    assert again["id"] == found["id"] and len(stored(db)) == 1
    # A run is stored, matched to no session, and says why.
    run = send_hk(client, device, healthkit("RUN-1", "running"), key="k3").json()
    assert run["matched_session_id"] is None and "running" in run["unmatched_reason"]


def test_a_healthkit_workout_matches_the_logged_session_and_a_run_never_does(
    client: TestClient, user: Account, device: dict[str, str]
) -> None:
    built = client.post("/v1/sessions", headers=user.headers, json={"equipment": ["mat"]}).json()
    item = next(i for i in built["items"] if i["block"] != "warmup")
    entry = {"exercise_slug": item["exercise_slug"], "sets_completed": 1, "reps": [5]}
    log = {"started_at": at(0), "ended_at": at(1200), "entries": [entry]}
    assert client.put(f"/v1/sessions/{built['id']}/log", headers=user.headers, json=log).is_success
    strength = send_hk(client, device, healthkit()).json()
    assert strength["matched_session_id"] == built["id"]
    run = send_hk(client, device, healthkit("RUN-1", "running"), key="k2").json()
    assert run["matched_session_id"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["workout"].update(workoutActivityType=20), "workout.workoutActivityType"),
        (lambda b: b["workout"]["metadata"].update(HKTimeZone="Mars/Olympus"),
         "workout.metadata.HKTimeZone"),
        # A directory of the zone database, not a zone.
        (lambda b: b["workout"]["metadata"].update(HKTimeZone="America"),
         "workout.metadata.HKTimeZone"),
        (lambda b: b["workout"].update(totalEnergyBurned={"unit": "kJ", "value": 90_000}),
         "workout.totalEnergyBurned.value"),
        (lambda b: b["workout"].update(endDate=at(-5)), "workout.endDate"),
        (lambda b: b["heartRate"][0]["quantity"].update(unit="count/s"),
         "heartRate.0.quantity.unit"),
        (lambda b: b["workout"].pop("uuid"), "workout.uuid"),
    ],
)  # fmt: skip
def test_a_bad_healthkit_workout_names_the_field_and_stores_nothing(
    client: TestClient, device: dict[str, str], db: Engine, change: Any, field: str
) -> None:
    payload = healthkit()
    change(payload)
    answer = send_hk(client, device, payload)
    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert stored(db) == []


def test_a_record_imported_again_after_an_edit_is_the_record_as_it_is_now(
    client: TestClient, user: Account, device: dict[str, str]
) -> None:
    first = send(client, device, health_connect(samples=1200)).json()
    # Edited on the phone: the hip thrusts were 12, and the session ended at 15 minutes.
    edited = health_connect(samples=900)
    record = edited["exerciseSession"]
    record["segments"][0]["repetitions"] = 12
    record["endTime"] = at(900)
    edited["heartRate"][0]["samples"] = [
        s for s in edited["heartRate"][0]["samples"] if s["time"] <= at(900)
    ]
    again = send(client, device, edited, key="k2").json()
    assert again["id"] == first["id"]
    assert again["summary"]["reps"] == {"glute-bridge": 12, "back-extension": 8}
    assert again["summary"]["duration_seconds"] == 900
    # 0..900 s: the first import's samples after the new end are gone.
    assert again["summary"]["heart_rate"]["samples"] == 901
    # Sent by the watch's own token too: still that one recording.
    other = client.post("/v1/me/devices", headers=user.headers, json={"name": "Tablet"})
    tablet = {"Authorization": f"Bearer {other.json()['token']}"}
    assert send(client, tablet, edited, key="k3").json()["id"] == first["id"]
    assert len(client.get("/v1/me/uploads", headers=user.headers).json()["items"]) == 1


def test_an_upload_and_an_import_never_take_each_others_recording(
    client: TestClient, user: Account, device: dict[str, str]
) -> None:
    # An upload whose own id happens to read like an import's label, before and after.
    label = "health_connect:3b1c9a8e-5f0d-4c1e-9d2a-7e6f5a4b3c2d"
    upload = {
        "device_session_id": label,
        "started_at": at(0),
        "ended_at": at(600),
        "heart_rate": [{"t": at(1), "bpm": 80}],
    }
    h = {**device, "Idempotency-Key": "u1"}
    assert client.post("/v1/wearable/uploads", headers=h, json=upload).status_code == 201
    imported = send(client, device, health_connect())
    assert imported.status_code == 201, imported.text
    h["Idempotency-Key"] = "u2"
    assert client.post("/v1/wearable/uploads", headers=h, json=upload).status_code == 201
    items = client.get("/v1/me/uploads", headers=user.headers).json()["items"]
    assert sorted(i["source"] for i in items) == ["health_connect", "upload"]


def test_too_many_segments_is_a_422_naming_them(client: TestClient, device: dict[str, str]) -> None:
    payload = health_connect()
    one = payload["exerciseSession"]["segments"][1]
    payload["exerciseSession"]["segments"] = [one] * 501
    answer = send(client, device, payload)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["exerciseSession.segments"]


def test_a_workout_both_uploaded_and_imported_is_not_counted_twice_in_its_session(
    client: TestClient, user: Account, device: dict[str, str]
) -> None:
    built = client.post("/v1/sessions", headers=user.headers, json={"equipment": ["mat"]}).json()
    item = next(i for i in built["items"] if i["block"] != "warmup")
    entry = {"exercise_slug": item["exercise_slug"], "sets_completed": 1, "reps": [5]}
    log = {"started_at": at(0), "ended_at": at(1200), "entries": [entry]}
    assert client.put(f"/v1/sessions/{built['id']}/log", headers=user.headers, json=log).is_success
    # The phone uploads its own recording and imports Health Connect's, with one token.
    upload = {
        "device_session_id": "phone-rec-1",
        "session_id": built["id"],
        "started_at": at(0),
        "ended_at": at(1200),
        "reps": [{"t": at(60), "exercise_slug": "glute-bridge", "count": 10}],
    }
    sent = client.post("/v1/wearable/uploads", headers={**device, "Idempotency-Key": "u"},
                       json=upload)  # fmt: skip
    assert sent.status_code == 201, sent.text
    assert send(client, device, health_connect()).json()["matched_session_id"] == built["id"]
    shown = client.get(f"/v1/sessions/{built['id']}", headers=user.headers).json()
    assert shown["wearable"]["reps"]["glute-bridge"] == 10


def test_healthkit_metadata_of_any_app_is_accepted_within_bounds(
    client: TestClient, device: dict[str, str], db: Engine
) -> None:
    payload = healthkit()
    payload["workout"]["metadata"].update(
        {"HKAverageMETs": {"unit": "kcal/hr·kg", "value": 3.9}, "HKWeatherHumidity": 48,
         "com.example.routine": "back-care", "HKCoachedWorkout": False}
    )  # fmt: skip
    payload["heartRate"][0]["metadata"] = {"HKMetadataKeyHeartRateMotionContext": 2}
    answer = send_hk(client, device, payload)
    assert answer.status_code == 201, answer.text
    # Up to 40 keys in all.
    full = healthkit(uuid_="full")
    full["workout"]["metadata"].update({f"k{i}": i for i in range(38)})
    assert send_hk(client, device, full, key="full").status_code == 201
    # Beyond the bounds: a nested dictionary, a key no platform writes, too many keys.
    changes: list[tuple[dict[str, Any], str]] = [
        ({"HKNested": {"a": {"b": 1}}}, "workout.metadata.HKNested"),
        ({"bad key": 1}, "workout.metadata"),
        # With HKTimeZone and HKIndoorWorkout: 41 keys.
        ({f"k{i}": i for i in range(39)}, "workout.metadata"),
    ]
    for key, (change, field) in enumerate(changes):
        bad = healthkit(uuid_=f"bad-{key}")
        bad["workout"]["metadata"].update(change)
        refused = send_hk(client, device, bad, key=f"bad-{key}")
        assert refused.status_code == 422, refused.text
        assert any(e["field"].startswith(field) for e in refused.json()["errors"]), refused.text
    assert len(stored(db)) == 2
