"""Every success response in the document has an example, and every example is a real
answer of this API (issue 17: a generated client's docs and mocks show real data).

The examples in api/openapi_examples.json are recorded from the walk below, one request
per documented success response, with tokens replaced by placeholders and long lists cut
to two items. Each is checked against the current document here, key by key and type by
type, so an example can never drift from the schema it illustrates; a response added to
the document without one fails the coverage test. `UPDATE_EXAMPLES=1 .venv/bin/python -m
pytest tests/api/test_examples.py` records them again (refused under CI).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.openapi import EXAMPLES_FILE
from api.schemas.exercise_in import EXERCISE_EXAMPLE
from tests.api.test_response_keys import SECRET_NAME, check_shape
from tests.conftest import ALL_CLEAR_SCREEN, AccountFactory, FakeClock, sign_in

LONGEST_LIST = 2
# What stands in for the credentials a response hands out (never a real one in the docs).
PLACEHOLDERS = {
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl",
    "refresh_token": "bsr_EXAMPLEexampleEXAMPLEexampleEXAMPLEexample00",
    "token": "bsd_EXAMPLEexampleEXAMPLEexampleEXAMPLEexample00",
}


def update_requested() -> bool:
    if os.environ.get("UPDATE_EXAMPLES") != "1":
        return False
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail("UPDATE_EXAMPLES=1 is refused under CI: record them locally and commit")
    return True


def scrubbed(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: scrubbed(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [scrubbed(v, key) for v in value[:LONGEST_LIST]]
    if key in PLACEHOLDERS and isinstance(value, str):
        return PLACEHOLDERS[key]
    return value


def documented_successes(doc: dict[str, Any]) -> set[str]:
    return {
        f"{method.upper()} {path} {status}"
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        for status, response in operation["responses"].items()
        if status.startswith("2") and "application/json" in response.get("content", {})
    }


def stored_examples() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))
    return loaded


def test_every_success_response_has_an_example(app: FastAPI) -> None:
    doc = app.openapi()
    missing = sorted(documented_successes(doc) - set(stored_examples()))
    assert not missing, f"no example recorded for {missing}"
    for key in documented_successes(doc):
        method, path, status = key.split(" ")
        content = doc["paths"][path][method.lower()]["responses"][status]["content"]
        assert content["application/json"]["example"] == stored_examples()[key], key


def test_every_example_fits_the_document_and_shows_no_secret(app: FastAPI) -> None:
    doc = app.openapi()
    stale = sorted(set(stored_examples()) - documented_successes(doc))
    assert not stale, f"examples of responses the document no longer has: {stale}"
    for key, example in stored_examples().items():
        method, path, status = key.split(" ")
        content = doc["paths"][path][method.lower()]["responses"][status]["content"]
        check_shape(doc, content["application/json"]["schema"], example, key)
        text = json.dumps(example)
        assert "$argon2" not in text, key
        for name, placeholder in PLACEHOLDERS.items():
            for found in re.findall(rf'"{name}": "([^"]*)"', text):
                assert found == placeholder, (key, name)
        assert not [k for k in _keys(example) if SECRET_NAME.search(k)] or key in {
            "POST /v1/auth/token 200",
            "POST /v1/auth/refresh 200",
            "POST /v1/me/devices 201",
            "GET /v1/me/devices 200",
            "GET /v1/me/export 200",
        }, key


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [k for k, v in value.items() for k in [k, *_keys(v)]]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []


@pytest.mark.usefixtures("seeded")
def test_the_examples_are_what_the_api_answers(
    app: FastAPI, client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    """The walk that records the examples; it runs every time, so it stays runnable, and
    its answers are checked against the document like the stored examples are."""
    doc = app.openapi()
    recorded: dict[str, Any] = {}
    templates = {re.sub(r"\{[^}]+\}", "[^/?]+", p): p for p in doc["paths"]}

    def call(method: str, url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        response = client.request(method, url, headers=headers or {}, **kwargs)
        assert 200 <= response.status_code < 300, (url, response.text)
        if response.status_code != 204 and response.headers["content-type"].startswith(
            "application/json"
        ):
            path = url.split("?")[0]
            template = next(t for p, t in templates.items() if re.fullmatch(p, path))
            recorded[f"{method} {template} {response.status_code}"] = scrubbed(response.json())
        return response

    # A person signs up, signs in and answers the screen.
    credentials = {"email": "sam@example.com", "password": "a-long-passphrase"}
    call("POST", "/v1/auth/register", json={**credentials, "display_name": "Sam"})
    tokens = sign_in(client, credentials["email"], credentials["password"])
    call("POST", "/v1/auth/token", data={"username": "sam@example.com", **credentials})
    refreshed = call(
        "POST", "/v1/auth/refresh", json={"refresh_token": tokens.json()["refresh_token"]}
    ).json()
    me = {"Authorization": f"Bearer {refreshed['access_token']}"}
    call("PATCH", "/v1/me", me, json={"equipment": ["mat", "resistance-band"], "birth_year": 1980})
    call("GET", "/v1/me", me)
    call("PUT", "/v1/me/screening", me, json=ALL_CLEAR_SCREEN)
    call("GET", "/v1/me/screening", me)
    # A watch.
    device_id = str(uuid.uuid4())
    device = call("POST", "/v1/me/devices", me, json={"id": device_id, "name": "Sam's watch"})
    call("POST", "/v1/me/devices", me, json={"id": device_id, "name": "Sam's watch"})
    call("GET", "/v1/me/devices", me)
    # The catalog, and an admin's edits.
    call("GET", "/v1/exercises?limit=2")
    call("GET", "/v1/exercises/superman")
    call("GET", "/v1/muscles")
    call("GET", "/v1/equipment")
    admin = make_account("admin").headers
    made = call("POST", "/v1/exercises", admin, json=EXERCISE_EXAMPLE)
    replaced = {**EXERCISE_EXAMPLE, "summary": "On all fours, reach one arm and the opposite leg."}
    put = call(
        "PUT",
        "/v1/exercises/bird-dog",
        {**admin, "If-Match": made.headers["etag"]},
        json=replaced,
    )
    call(
        "PATCH",
        "/v1/exercises/bird-dog",
        {**admin, "If-Match": put.headers["etag"]},
        json={"difficulty": 2},
    )
    call("GET", "/v1/exercises/bird-dog/revisions", admin)
    # A day: a check-in, a session built, done and logged, a wearable's upload.
    checkin = {
        "id": str(uuid.uuid4()),
        "recorded_at": clock.now.isoformat(),
        "phase": "daily",
        "pain": 3,
        "locations": ["lower-back"],
    }
    stored = call("POST", "/v1/checkins", me, json=checkin).json()
    call("POST", "/v1/checkins", me, json=checkin)
    call("GET", "/v1/checkins", me)
    call("GET", f"/v1/checkins/{stored['checkin']['id']}", me)
    call("GET", "/v1/rules")
    call("GET", "/v1/instruments")
    odi = dict.fromkeys(("pain_intensity", "personal_care", "lifting", "walking", "sitting"), 2)
    odi |= dict.fromkeys(("standing", "sleeping", "social_life", "travelling"), 3)
    first = {"recorded_at": clock.now.isoformat(), "instrument": "odi", "answers": odi}
    call("POST", "/v1/outcomes", me, json=first)
    again = {
        "id": str(uuid.uuid4()),
        "recorded_at": clock.now.isoformat(),
        "instrument": "odi",
        "answers": odi | {"pain_intensity": 1, "lifting": 1, "sitting": 1},
    }
    outcome = call("POST", "/v1/outcomes", me, json=again).json()["outcome"]
    call("GET", "/v1/outcomes", me)
    call("GET", f"/v1/outcomes/{outcome['id']}", me)
    call("GET", "/v1/routine", me)
    build = {"id": str(uuid.uuid4()), "minutes": 20, "equipment": ["mat"]}
    session = call("POST", "/v1/sessions", me, json=build).json()
    call("POST", "/v1/sessions", me, json=build)
    start = clock.now - timedelta(minutes=20)
    entries = [
        {
            "exercise_slug": i["exercise_slug"],
            "sets_completed": i["sets"],
            "reps": [i["reps"] or 1] * i["sets"],
            "hold_seconds": i["hold_seconds"],
            "rpe": 4,
            "pain_during": 2,
        }
        for i in session["items"]
        if i["block"] != "warmup"
    ]
    log = {
        "started_at": start.isoformat(),
        "ended_at": clock.now.isoformat(),
        "entries": entries,
        "pain_after": 2,
    }
    call("PUT", f"/v1/sessions/{session['id']}/log", me, json=log)
    upload = {
        "device_session_id": "watch-2026-11-24-1",
        "session_id": session["id"],
        "started_at": start.isoformat(),
        "ended_at": clock.now.isoformat(),
        "heart_rate": [
            {"t": (start + timedelta(seconds=s)).isoformat(), "bpm": 88 + s % 7}
            for s in range(0, 600, 5)
        ],
        "reps": [{"t": (start + timedelta(seconds=60)).isoformat(), "count": 5}],
    }
    watch = {"Authorization": f"Bearer {device.json()['token']}", "Idempotency-Key": "up-1"}
    call("POST", "/v1/wearable/uploads", watch, json=upload)
    # The phone app imports the same workout as Health Connect recorded it.
    imported = {
        "exerciseSession": {
            "startTime": start.isoformat(),
            "startZoneOffset": "+01:00",
            "endTime": clock.now.isoformat(),
            "endZoneOffset": "+01:00",
            "exerciseType": "EXERCISE_TYPE_STRENGTH_TRAINING",
            "segments": [
                {
                    "startTime": (start + timedelta(seconds=60)).isoformat(),
                    "endTime": (start + timedelta(seconds=150)).isoformat(),
                    "segmentType": "EXERCISE_SEGMENT_TYPE_HIP_THRUST",
                    "repetitions": 10,
                }
            ],
            "metadata": {"id": "hc-3b1c9a8e", "device": {"model": "Pixel Watch 3"}},
        },
        "heartRate": [
            {
                "startTime": start.isoformat(),
                "endTime": clock.now.isoformat(),
                "samples": [
                    {"time": (start + timedelta(seconds=s)).isoformat(), "beatsPerMinute": 90}
                    for s in range(0, 600, 5)
                ],
            }
        ],
    }
    phone = {"Authorization": f"Bearer {device.json()['token']}", "Idempotency-Key": "hc-1"}
    call("POST", "/v1/wearable/imports/health-connect", phone, json=imported)
    # And an iPhone's app, as HealthKit recorded it.
    workout = {
        "workout": {
            "uuid": "6E3A4B5C-1D2E-4F60-8A9B-0C1D2E3F4A5B",
            "workoutActivityType": "traditionalStrengthTraining",
            "startDate": start.isoformat(),
            "endDate": clock.now.isoformat(),
            "totalEnergyBurned": {"unit": "kcal", "value": 64.5},
            "metadata": {"HKTimeZone": "Europe/Madrid"},
        },
        "heartRate": [
            {
                "startDate": (start + timedelta(seconds=s)).isoformat(),
                "quantity": {"unit": "count/min", "value": 91.0},
            }
            for s in range(0, 600, 5)
        ],
    }
    # The app sends it with the person's own token: no device needed.
    iphone = {**me, "Idempotency-Key": "hk-1"}
    call("POST", "/v1/wearable/imports/healthkit", iphone, json=workout)
    call("GET", "/v1/me/uploads", me)
    # Which exercise a Health Connect segment type counts; an admin sets one.
    call("GET", "/v1/health-connect/segment-types", me)
    plank = "/v1/health-connect/segment-types/EXERCISE_SEGMENT_TYPE_PLANK"
    call("PUT", plank, admin, json={"exercise_slug": None})  # 201: a type not known before
    call("PUT", plank, admin, json={"exercise_slug": "bird-dog"})
    call("GET", f"/v1/sessions/{session['id']}", me)
    call("GET", "/v1/sessions", me)
    call("GET", "/v1/progress", me)
    # A physiotherapist links up, tunes the plan, and sees an alert through.
    clinician = make_account("clinician").headers
    code = call("POST", "/v1/clinician/invitations", clinician).json()["code"]
    call("POST", "/v1/me/clinicians", me, json={"code": code})
    call("POST", "/v1/me/clinicians", me, json={"code": code})
    call("GET", "/v1/me/clinicians", me)
    sam = json.loads(client.get("/v1/me", headers=me).text)["id"]
    call("GET", "/v1/patients", clinician)
    call(
        "PUT",
        f"/v1/patients/{sam}/routine",
        clinician,
        json={"caps": {"superman": {"sets": 2, "reps": 8}}},
    )
    call("PUT", f"/v1/patients/{sam}/thresholds", clinician, json={"during_pain_max": 4})
    clock.advance(hours=2)
    flag = {
        "recorded_at": clock.now.isoformat(),
        "phase": "daily",
        "pain": 4,
        "red_flags": {"fever_or_unwell": True},
    }
    call("POST", "/v1/checkins", me, json=flag)
    call("GET", "/v1/advice", me)
    call("GET", "/v1/advice/history", me)
    alerts = call("GET", "/v1/alerts", clinician).json()["items"]
    call("POST", f"/v1/alerts/{alerts[0]['id']}/ack", clinician)
    call("GET", f"/v1/patients/{sam}/summary", clinician)
    call("POST", f"/v1/patients/{sam}/red-flags/resolve", clinician)
    call("GET", "/v1/me/export", me)
    call("GET", "/problems/validation-error")
    call("GET", "/healthz")
    call("GET", "/readyz")

    for key, example in recorded.items():
        method, path, status = key.split(" ")
        content = doc["paths"][path][method.lower()]["responses"][status]["content"]
        check_shape(doc, content["application/json"]["schema"], example, key)
    assert set(recorded) == documented_successes(doc), sorted(
        set(recorded) ^ documented_successes(doc)
    )
    if update_requested():
        ordered = dict(sorted(recorded.items()))
        EXAMPLES_FILE.write_text(json.dumps(ordered, indent=1) + "\n", encoding="utf-8")
        pytest.skip(f"rewrote {EXAMPLES_FILE.name}: review the diff before committing it")
