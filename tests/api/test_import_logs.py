"""Segment reps from a Health Connect import fill the log of the session they recorded when
the person has not logged it, and never change a log the person sent (issue 20)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from api.models import TrainingSession, User
from api.schemas.logs import LogIn
from api.services.health_platforms import load_platform_maps
from api.services.logs import store_log
from tests.api.platform_records import START, at, health_connect, healthkit, send, send_hk
from tests.conftest import Account, FakeClock

pytestmark = pytest.mark.usefixtures("seeded")


@pytest.fixture
def device(client: TestClient, user: Account) -> dict[str, str]:
    made = client.post("/v1/me/devices", headers=user.headers, json={"name": "Pixel"})
    return {"Authorization": f"Bearer {made.json()['token']}"}


def build(client: TestClient, user: Account, clock: FakeClock, before: timedelta) -> Any:
    """A session built `before` the workout began; the clock then moves past the workout."""
    clock.now = START - before
    built = client.post("/v1/sessions", headers=user.headers, json={"equipment": ["mat"]})
    assert built.status_code == 201, built.text
    clock.now = START + timedelta(minutes=30)
    return built.json()


def counted(session: Any) -> tuple[str, str]:
    """A planned exercise of the session a Health Connect segment type counts, and the type."""
    by_slug = {s: t for t, s in load_platform_maps().health_connect.segment_types.items() if s}
    slug = next(i["exercise_slug"] for i in session["items"] if i["exercise_slug"] in by_slug)
    return slug, by_slug[slug]


def segments(kind: str, *reps: int, rpe: float | None = None) -> list[dict[str, Any]]:
    """One segment of `kind` per set, a rest between them; `rpe` on the last set."""
    found: list[dict[str, Any]] = []
    for n, count in enumerate(reps):
        begin = 60 + 200 * n
        found.append({"startTime": at(begin), "endTime": at(begin + 120),
                      "segmentType": kind, "repetitions": count})  # fmt: skip
        if rpe is not None and n == len(reps) - 1:
            found[-1]["rateOfPerceivedExertion"] = rpe
        found.append({"startTime": at(begin + 120), "endTime": at(begin + 200),
                      "segmentType": "EXERCISE_SEGMENT_TYPE_REST"})  # fmt: skip
    return found


def session_log(client: TestClient, user: Account, session_id: str) -> Any:
    found = client.get(f"/v1/sessions/{session_id}", headers=user.headers)
    assert found.status_code == 200, found.text
    return found.json()


def test_segment_reps_fill_the_log_of_the_unlogged_session_they_recorded(
    client: TestClient, user: Account, device: dict[str, str], clock: FakeClock
) -> None:
    built = build(client, user, clock, timedelta(hours=2))
    slug, kind = counted(built)
    answer = send(client, device, health_connect(segments=segments(kind, 10, 8, rpe=4.5)))
    assert answer.status_code == 201, answer.text
    found = answer.json()
    assert found["segments"][2]["rate_of_perceived_exertion"] == 4.5
    assert found["matched_session_id"] == built["id"] and found["log_filled"] is True
    shown = session_log(client, user, built["id"])
    assert shown["status"] == "completed"
    log = shown["log"]
    assert log["import_id"] == found["id"]
    assert log["entries"] == [
        {"exercise_slug": slug, "sets_completed": 2, "reps": [10, 8], "hold_seconds": None,
         "rpe": 5, "pain_during": None, "skipped": False, "skip_reason": None, "load": None}
    ]  # fmt: skip
    assert [datetime.fromisoformat(log[k]) for k in ("started_at", "ended_at")] == [
        START,
        START + timedelta(seconds=1200),
    ]
    assert log["pain_after"] is None
    # The rules decided on it at once (no pain recorded: never a step up, as
    # tests/domain/test_imported_logs.py shows rule by rule).
    advice = client.get("/v1/advice", headers=user.headers).json()
    assert "progress" not in advice["exercises"].values()
    # A clinician's system is told no one reported how it felt.
    bundle = client.get("/v1/me/fhir", headers=user.headers).json()
    (procedure,) = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Procedure"
    ]
    assert procedure["id"] == built["id"]
    assert any("no pain was reported" in n["text"] for n in procedure["note"])


def test_a_session_the_person_logged_is_never_changed_by_an_import(
    client: TestClient, user: Account, device: dict[str, str], clock: FakeClock
) -> None:
    built = build(client, user, clock, timedelta(hours=2))
    slug, kind = counted(built)
    entry = {"exercise_slug": slug, "sets_completed": 1, "reps": [5], "pain_during": 1}
    body = {"started_at": at(0), "ended_at": at(1200), "entries": [entry], "pain_after": 1}
    put = client.put(f"/v1/sessions/{built['id']}/log", headers=user.headers, json=body)
    assert put.status_code == 200, put.text
    before = session_log(client, user, built["id"])["log"]
    found = send(client, device, health_connect(segments=segments(kind, 10, 8))).json()
    assert found["matched_session_id"] == built["id"] and found["log_filled"] is False
    assert session_log(client, user, built["id"])["log"] == before


def test_the_persons_own_log_replaces_a_filled_one_and_a_later_import_leaves_it(
    client: TestClient, user: Account, device: dict[str, str], clock: FakeClock
) -> None:
    built = build(client, user, clock, timedelta(hours=2))
    slug, kind = counted(built)
    filled = send(client, device, health_connect(segments=segments(kind, 10, 8))).json()
    assert filled["log_filled"] is True
    # Their first log of the session needs no If-Match: the filled one was not theirs.
    entry = {"exercise_slug": slug, "sets_completed": 2, "reps": [10, 8], "pain_during": 2}
    body = {"started_at": at(0), "ended_at": at(1200), "entries": [entry], "pain_after": 2}
    put = client.put(f"/v1/sessions/{built['id']}/log", headers=user.headers, json=body)
    assert put.status_code == 200, put.text
    theirs = put.json()["log"]
    assert theirs["import_id"] is None and theirs["entries"][0]["pain_during"] == 2
    # The record imported again, edited, under another key: the person's log stands.
    again = send(client, device, health_connect(segments=segments(kind, 12)), key="k2").json()
    assert again["id"] == filled["id"] and again["log_filled"] is False
    assert session_log(client, user, built["id"])["log"] == theirs
    # Sending their own log again is a retry, as before.
    retry = client.put(f"/v1/sessions/{built['id']}/log", headers=user.headers, json=body)
    assert retry.status_code == 200 and retry.json()["log"]["version"] == theirs["version"]


def test_the_same_entries_sent_by_the_person_become_their_log(
    client: TestClient, user: Account, device: dict[str, str], clock: FakeClock
) -> None:
    built = build(client, user, clock, timedelta(hours=2))
    slug, kind = counted(built)
    send(client, device, health_connect(segments=segments(kind, 10, 8)))
    entry = {"exercise_slug": slug, "sets_completed": 2, "reps": [10, 8]}
    body = {"started_at": at(0), "ended_at": at(1200), "entries": [entry]}
    put = client.put(f"/v1/sessions/{built['id']}/log", headers=user.headers, json=body)
    assert put.status_code == 200, put.text
    assert put.json()["log"]["import_id"] is None and put.json()["log"]["version"] == 2


def test_a_record_imported_again_after_an_edit_refreshes_the_log_it_filled(
    client: TestClient, user: Account, device: dict[str, str], clock: FakeClock
) -> None:
    built = build(client, user, clock, timedelta(hours=2))
    slug, kind = counted(built)
    send(client, device, health_connect(segments=segments(kind, 10, 8)))
    again = send(client, device, health_connect(segments=segments(kind, 12)), key="k2").json()
    assert again["log_filled"] is True
    log = session_log(client, user, built["id"])["log"]
    assert (log["entries"][0]["reps"], log["version"]) == ([12], 2)
    # The same record unchanged is no new version.
    send(client, device, health_connect(segments=segments(kind, 12)), key="k3")
    assert session_log(client, user, built["id"])["log"]["version"] == 2


@pytest.mark.parametrize(
    ("before", "kinds"),
    [
        # Built after the workout ended: not the session it recorded.
        (timedelta(hours=-1), None),
        # Built more than a day before.
        (timedelta(hours=25), None),
        # Nothing it counted is planned in the session.
        (timedelta(hours=2), "EXERCISE_SEGMENT_TYPE_KETTLEBELL_SWING"),
    ],
)
def test_an_import_fills_no_session_it_cannot_have_recorded(
    client: TestClient,
    user: Account,
    device: dict[str, str],
    clock: FakeClock,
    before: timedelta,
    kinds: str | None,
) -> None:
    built = build(client, user, clock, before)
    clock.now = max(clock.now, START + timedelta(hours=2))
    kind = kinds or counted(built)[1]
    found = send(client, device, health_connect(segments=segments(kind, 10))).json()
    assert (found["matched_session_id"], found["log_filled"]) == (None, False)
    shown = session_log(client, user, built["id"])
    assert (shown["status"], shown["log"]) == ("planned", None)


def test_a_healthkit_workout_has_no_segments_and_fills_no_log(
    client: TestClient, user: Account, device: dict[str, str], clock: FakeClock
) -> None:
    built = build(client, user, clock, timedelta(hours=2))
    found = send_hk(client, device, healthkit()).json()
    assert (found["matched_session_id"], found["log_filled"]) == (None, False)
    assert session_log(client, user, built["id"])["log"] is None


def test_a_run_fills_no_log(
    client: TestClient, user: Account, device: dict[str, str], clock: FakeClock
) -> None:
    built = build(client, user, clock, timedelta(hours=2))
    _, kind = counted(built)
    run = health_connect("run-1", "EXERCISE_TYPE_RUNNING", segments=segments(kind, 10))
    found = send(client, device, run).json()
    assert (found["matched_session_id"], found["log_filled"]) == (None, False)
    assert session_log(client, user, built["id"])["log"] is None


def test_the_persons_own_token_fills_the_log_as_a_device_does(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    built = build(client, user, clock, timedelta(hours=2))
    _, kind = counted(built)
    found = send(client, user.headers, health_connect(segments=segments(kind, 9))).json()
    assert (found["matched_session_id"], found["log_filled"]) == (built["id"], True)
    assert session_log(client, user, built["id"])["log"]["import_id"] == found["id"]


def test_a_log_that_got_in_first_stays_and_the_import_loses_nothing(
    client: TestClient, user: Account, clock: FakeClock, db: Engine
) -> None:
    """The savepoint: an import that finds no log, then meets the person's on insert,
    keeps what it wrote before and is told whose log is stored."""
    built = build(client, user, clock, timedelta(hours=2))
    slug, _ = counted(built)
    entry = {"exercise_slug": slug, "sets_completed": 1, "reps": [5]}
    theirs = {"started_at": at(0), "ended_at": at(1200), "entries": [entry]}
    put = client.put(f"/v1/sessions/{built['id']}/log", headers=user.headers, json=theirs)
    assert put.status_code == 200, put.text
    with Session(db) as s:
        planned = s.get(TrainingSession, uuid.UUID(built["id"]))
        person = s.get(User, uuid.UUID(user.id))
        assert planned is not None and person is not None
        planned.notes = [*planned.notes, "written before the import's insert"]
        s.add(planned)
        s.flush()
        body = LogIn.model_validate({**theirs, "entries": [{**entry, "reps": [9]}]})
        found = store_log(s, person, planned, None, body, "x" * 64, clock(), uuid.uuid4())
        assert found.import_id is None and found.entries[0]["reps"] == [5]
        s.commit()
    shown = session_log(client, user, built["id"])
    assert shown["notes"][-1] == "written before the import's insert"
    assert shown["log"]["entries"][0]["reps"] == [5]
