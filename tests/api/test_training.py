"""Routine, sessions and logs through the API: the journeys the mobile app makes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import EllipsisType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.conftest import Account, AccountFactory, FakeClock

pytestmark = pytest.mark.usefixtures("seeded")

ALL_GEAR = ["mat", "chair", "resistance-band", "exercise-ball", "dumbbells"]


def routine(client: TestClient, account: Account) -> dict[str, dict[str, Any]]:
    body = client.get("/v1/routine", headers=account.headers).json()
    return {i["exercise_slug"]: i for i in body["items"]}


def build(client: TestClient, account: Account, **body: Any) -> Any:
    body.setdefault("minutes", 40)
    body.setdefault("equipment", ALL_GEAR)
    return client.post("/v1/sessions", headers=account.headers, json=body)


def checkin(
    client: TestClient, account: Account, clock: FakeClock, pain: int, phase: str, **fields: Any
) -> Any:
    body = {"recorded_at": clock.now.isoformat(), "phase": phase, "pain": pain, **fields}
    response = client.post("/v1/checkins", headers=account.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def log_body(
    session: dict[str, Any],
    clock: FakeClock,
    *,
    pain: int = 1,
    rpe: int = 4,
    overrides: dict[str, dict[str, Any]] | None = None,
    pain_after: int | None | EllipsisType = ...,
) -> dict[str, Any]:
    """Every exercise of the session done as prescribed, ending now (pain after the
    session: as during, unless given; None leaves it out)."""
    entries = []
    for item in session["items"]:
        if item["block"] == "warmup":
            continue
        entry = {
            "exercise_slug": item["exercise_slug"],
            "sets_completed": item["sets"],
            "reps": [item["reps"]] * item["sets"],
            "hold_seconds": item["hold_seconds"],
            "rpe": rpe,
            "pain_during": pain,
        }
        entry.update((overrides or {}).get(item["exercise_slug"], {}))
        entries.append(entry)
    return {
        "started_at": (clock.now - timedelta(minutes=25)).isoformat(),
        "ended_at": clock.now.isoformat(),
        "entries": entries,
        "pain_after": pain if pain_after is ... else pain_after,
    }


def put_log(client: TestClient, account: Account, session_id: str, body: dict[str, Any]) -> Any:
    return client.put(f"/v1/sessions/{session_id}/log", headers=account.headers, json=body)


def good_session(
    client: TestClient, user: Account, clock: FakeClock, morning_first: bool = False
) -> tuple[dict[str, Any], Any]:
    """Before pain 1, a comfortable session, next-morning pain 1."""
    session = build(client, user).json()
    checkin(client, user, clock, 1, "before", session_id=session["id"])
    clock.advance(minutes=30)
    body = log_body(session, clock)
    if morning_first:
        # An offline phone may sync the next-morning check-in before the log.
        clock.advance(hours=14)
        checkin(client, user, clock, 1, "next_morning", session_id=session["id"])
        logged = put_log(client, user, session["id"], body)
    else:
        logged = put_log(client, user, session["id"], body)
        clock.advance(hours=14)
        checkin(client, user, clock, 1, "next_morning", session_id=session["id"])
    assert logged.status_code == 200, logged.text
    clock.advance(days=1)
    return session, logged


def test_a_new_routine_starts_at_the_easiest_doses(client: TestClient, user: Account) -> None:
    body = client.get("/v1/routine", headers=user.headers).json()
    items = {i["exercise_slug"]: i for i in body["items"]}
    # Harder variations (back extension, dumbbell row) wait until their easier one is mastered.
    assert set(items) == {
        "lat-pulldown",
        "lying-lateral-leg-raise",
        "superman",
        "partial-curl",
        "knee-hug",
        "lower-back-rotational-stretch",
        "glute-bridge",
    }
    assert items["lat-pulldown"] | {"name": None, "steps": None} == {
        "exercise_slug": "lat-pulldown",
        "name": None,
        "sets": 1,
        "reps": 5,
        "hold_seconds": 3,
        "per_side": False,
        "level": 1,
        "left_out": False,
        "steps": None,
    }
    assert "Repeat 5 times." in items["lat-pulldown"]["steps"]
    assert items["knee-hug"]["hold_seconds"] == 10
    assert body["advice"]["status"] == "maintain"


def test_the_full_journey(client: TestClient, user: Account, clock: FakeClock, db: Engine) -> None:
    start = routine(client, user)
    built = build(client, user)
    assert built.status_code == 201, built.text
    session = built.json()
    assert session["status"] == "planned"
    assert session["items"][0]["exercise_slug"] == "warm-up"
    assert session["items"][0]["block"] == "warmup"
    assert session["estimated_minutes"] <= 40
    assert session["advice"]["status"] == "maintain"

    good_session(client, user, clock)
    good_session(client, user, clock)
    after = routine(client, user)
    stepped = [s for s in start if after[s]["level"] == start[s]["level"] + 1]
    assert stepped, "two comfortable sessions should step something up"
    assert all(after[s]["level"] in (start[s]["level"], start[s]["level"] + 1) for s in start)
    history = client.get("/v1/advice/history", headers=user.headers).json()["items"]
    assert any(r["rule_id"] == "P4" for h in history for r in h["reasons"])

    # Pain during 7 on one exercise: it steps down at once.
    target = stepped[0]
    session = build(client, user).json()
    clock.advance(minutes=30)
    painful = put_log(
        client,
        user,
        session["id"],
        log_body(session, clock, overrides={target: {"pain_during": 7}}),
    )
    assert painful.status_code == 200, painful.text
    result = painful.json()
    assert result["advice"]["status"] == "regress"
    assert result["advice"]["exercises"][target] == "regress"
    next_doses = {i["exercise_slug"]: i for i in result["next_doses"]}
    assert next_doses[target]["level"] == after[target]["level"] - 1
    assert routine(client, user)[target]["level"] == after[target]["level"] - 1
    # The session was built from the stepped-down dose.
    again = build(client, user).json()
    item = next(i for i in again["items"] if i["exercise_slug"] == target)
    assert (item["sets"], item["reps"], item["hold_seconds"]) == (
        next_doses[target]["sets"],
        next_doses[target]["reps"],
        next_doses[target]["hold_seconds"],
    )

    # A red flag: the next build is refused with the advice.
    clock.advance(hours=3)
    checkin(client, user, clock, 4, "daily", red_flags={"progressive_weakness": True})
    blocked = build(client, user)
    assert blocked.status_code == 409
    assert blocked.headers["content-type"] == "application/problem+json"
    problem = blocked.json()
    assert problem["type"].endswith("exercise-blocked")
    assert problem["advice"]["status"] == "urgent_care"
    assert "emergency" in problem["advice"]["reasons"][0]["message"]
    with db.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM sessions")).scalar_one() == 5


def test_the_same_log_three_times_is_one_log_and_one_progression(
    client: TestClient, user: Account, clock: FakeClock, db: Engine
) -> None:
    good_session(client, user, clock)
    start = routine(client, user)
    session = build(client, user).json()
    checkin(client, user, clock, 1, "before", session_id=session["id"])
    clock.advance(minutes=30)
    body = log_body(session, clock)
    clock.advance(hours=14)
    checkin(client, user, clock, 1, "next_morning", session_id=session["id"])
    responses = [put_log(client, user, session["id"], body) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[0].json()["log"] == responses[2].json()["log"]
    assert responses[0].json()["next_doses"] == responses[2].json()["next_doses"]
    after = routine(client, user)
    steps = {s: after[s]["level"] - start[s]["level"] for s in start}
    assert set(steps.values()) <= {0, 1}
    assert 1 in steps.values()
    with db.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM session_logs")).scalar_one() == 2
        moved = conn.execute(
            text("SELECT COUNT(*) FROM dose_changes WHERE rule_id = 'P4'")
        ).scalar_one()
    assert moved == sum(steps.values())


def test_a_corrected_log_replaces_and_re_evaluates(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    good_session(client, user, clock)
    start = routine(client, user)
    session = build(client, user).json()
    checkin(client, user, clock, 1, "before", session_id=session["id"])
    clock.advance(minutes=30)
    body = log_body(session, clock)
    clock.advance(hours=14)
    checkin(client, user, clock, 1, "next_morning", session_id=session["id"])
    first = put_log(client, user, session["id"], body).json()
    progressed = [s for s, d in routine(client, user).items() if d["level"] > start[s]["level"]]
    assert progressed
    # The person corrects it: one exercise actually hurt.
    target = progressed[0]
    corrected = log_body(session, clock, overrides={target: {"pain_during": 8}})
    corrected["started_at"], corrected["ended_at"] = body["started_at"], body["ended_at"]
    # A correction needs the stored version's ETag.
    assert put_log(client, user, session["id"], corrected).status_code == 428
    stale = client.put(
        f"/v1/sessions/{session['id']}/log",
        headers={**user.headers, "If-Match": '"log-7"'},
        json=corrected,
    )
    assert stale.status_code == 412
    response = client.put(
        f"/v1/sessions/{session['id']}/log",
        headers={**user.headers, "If-Match": '"log-1"'},
        json=corrected,
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"log-2"'
    second = response.json()
    assert second["log"]["version"] == first["log"]["version"] + 1 == 2
    # A delayed retry of the first version cannot undo the correction.
    late = put_log(client, user, session["id"], body)
    assert late.status_code == 428
    assert (
        client.get(f"/v1/sessions/{session['id']}", headers=user.headers).json()["log"]["version"]
        == 2
    )
    assert second["advice"]["exercises"][target] == "regress"
    now = routine(client, user)
    # The progression from the wrong log is undone, then the exercise steps down: below
    # the catalog's easiest dose if need be (ruleset v2: a regress always takes effect).
    assert now[target]["level"] == start[target]["level"] - 1
    # Every step the wrong log caused is undone; with pain above 5 nothing else steps up.
    assert {s: now[s]["level"] for s in start if s != target} == {
        s: start[s]["level"] for s in start if s != target
    }


def test_see_doctor_sessions_are_gentle_stretches_with_the_advice(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    checkin(client, user, clock, 3, "daily", red_flags={"night_pain": True})
    session = build(client, user)
    assert session.status_code == 201
    body = session.json()
    assert body["advice"]["status"] == "see_doctor"
    assert {i["exercise_slug"] for i in body["items"]} == {
        "knee-hug",
        "lower-back-rotational-stretch",
    }
    assert any("doctor" in n for n in body["notes"])


def test_weight_loss_limits_sessions_to_the_warm_up_and_stretches(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    checkin(client, user, clock, 3, "daily", red_flags={"unexplained_weight_loss": True})
    body = build(client, user).json()
    assert body["advice"]["status"] == "see_doctor"
    assert [r["rule_id"] for r in body["advice"]["reasons"]] == ["RF2b"]
    assert [(i["exercise_slug"], i["block"]) for i in body["items"]] == [
        ("warm-up", "warmup"),
        ("knee-hug", "cooldown"),
        ("lower-back-rotational-stretch", "cooldown"),
    ]
    assert any("warm-up and stretches" in n for n in body["notes"])


def test_build_errors_name_the_field(client: TestClient, user: Account) -> None:
    short = build(client, user, minutes=8)
    assert short.status_code == 422
    problem = short.json()
    assert problem["errors"][0]["field"] == "minutes"
    assert problem["minimum_minutes"] == 11
    assert "at least 11 minutes" in problem["detail"]
    for body, field in (
        ({"focus": ["biceps"]}, "focus"),
        ({"exclude": ["moonwalk"]}, "exclude"),
        ({"equipment": ["treadmill"]}, "equipment"),
        ({"minutes": 500}, "minutes"),
        ({"exclude": ["warm-up"]}, "exclude"),
        ({"user_id": str(uuid.uuid4())}, "user_id"),
    ):
        response = build(client, user, **body)
        assert response.status_code == 422, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], body


def test_defaults_come_from_the_profile(client: TestClient, user: Account) -> None:
    client.patch("/v1/me", headers=user.headers, json={"equipment": ["mat"], "session_minutes": 12})
    body = client.post("/v1/sessions", headers=user.headers, json={}).json()
    assert body["minutes"] == 12
    assert body["equipment"] == ["mat"]
    assert "lat-pulldown" not in {i["exercise_slug"] for i in body["items"]}
    assert body["estimated_minutes"] <= 12


def test_a_repeated_session_id_returns_the_stored_session(
    client: TestClient, make_account: AccountFactory
) -> None:
    user, other = make_account(), make_account()
    ident = str(uuid.uuid4())
    first = build(client, user, id=ident)
    again = build(client, user, id=ident, minutes=15)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert build(client, other, id=ident).status_code == 409
    assert client.get(f"/v1/sessions/{ident}", headers=other.headers).status_code == 404
    assert client.get("/v1/sessions", headers=other.headers).json()["items"] == []


def test_logs_are_checked_and_private(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    user, other = make_account(), make_account()
    session = build(client, user).json()
    good = log_body(session, clock)
    assert put_log(client, other, session["id"], good).status_code == 404
    missing = put_log(client, user, str(uuid.uuid4()), good)
    assert missing.status_code == 404
    bad_entries: list[tuple[dict[str, Any], str]] = [
        ({"entries": [{"exercise_slug": "back-extension", "sets_completed": 1, "reps": [5]}]},
         "entries.0.exercise_slug"),
        ({"entries": [{"exercise_slug": "superman", "sets_completed": 2, "reps": [5]}]},
         "entries.0"),
        ({"entries": [{"exercise_slug": "superman", "sets_completed": 1, "reps": [5],
                       "rpe": 11}]}, "entries.0.rpe"),
        ({"ended_at": (clock.now - timedelta(hours=2)).isoformat()}, "ended_at"),
        ({"entries": []}, "entries"),
    ]  # fmt: skip
    for change, field in bad_entries:
        response = put_log(client, user, session["id"], {**good, **change})
        assert response.status_code == 422, (change, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (change, response.json())
    assert client.get(f"/v1/sessions/{session['id']}", headers=user.headers).json()["log"] is None
    ok = put_log(client, user, session["id"], good)
    assert ok.status_code == 200
    stored = client.get(f"/v1/sessions/{session['id']}", headers=user.headers).json()
    assert stored["status"] == "completed"
    assert stored["log"]["entries"][0]["exercise_slug"] == good["entries"][0]["exercise_slug"]


def test_session_lists_sync_by_update_time(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    made = [build(client, user).json() for _ in range(4)]
    clock.advance(minutes=5)
    mark = clock.now
    clock.advance(minutes=5)
    put_log(client, user, made[0]["id"], log_body(made[0], clock))
    changed = client.get(
        "/v1/sessions", headers=user.headers, params={"since": mark.isoformat()}
    ).json()["items"]
    assert [s["id"] for s in changed] == [made[0]["id"]]
    planned = client.get(
        "/v1/sessions", headers=user.headers, params={"status": "planned", "limit": 2}
    ).json()
    assert len(planned["items"]) == 2 and planned["next_cursor"]
    rest = client.get(
        "/v1/sessions",
        headers=user.headers,
        params={"status": "planned", "limit": 2, "cursor": planned["next_cursor"]},
    ).json()
    assert {s["id"] for s in planned["items"] + rest["items"]} == {s["id"] for s in made[1:]}


def test_progress_for_charts(client: TestClient, user: Account, clock: FakeClock) -> None:
    client.patch("/v1/me", headers=user.headers, json={"timezone": "America/New_York"})
    clock.now = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 10:00 in New York
    good_session(client, user, clock)
    good_session(client, user, clock)
    checkin(client, user, clock, 3, "daily")
    progress = client.get("/v1/progress", headers=user.headers).json()
    assert progress["timezone"] == "America/New_York"
    adherence = progress["adherence"]
    assert adherence["sessions_total"] == 2
    assert adherence["sessions_per_week"] == 0.5
    assert adherence["minutes_last_7_days"] == 50.0
    # Logs on 10 and 12 March (New York time); it is now the 13th: a 1-day streak that
    # is still alive because yesterday had a session.
    assert adherence["streak_days"] == 1
    assert progress["pain"] and all(0 <= d["mean"] <= 10 for d in progress["pain"])
    # Rest pain (ruleset v2): 2 next morning, 1 daily; `before` check-ins are not charted.
    assert sum(d["count"] for d in progress["pain"]) == 3
    exercises = {e["exercise_slug"]: e for e in progress["exercises"]}
    assert exercises["back-extension"]["active"] is False
    stepped = [e for e in exercises.values() if e["history"]]
    assert stepped and all(s["history"][0]["rule_id"] == "P4" for s in stepped)
    assert all(s["current"]["level"] == 2 for s in stepped)


def test_correcting_an_older_log_keeps_later_doses(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    good_session(client, user, clock)
    good_session(client, user, clock)
    stepped = routine(client, user)
    target = next(slug for slug, item in stepped.items() if item["level"] == 2)
    older = build(client, user).json()
    clock.advance(minutes=30)
    painful = log_body(older, clock, overrides={target: {"pain_during": 7}})
    assert put_log(client, user, older["id"], painful).status_code == 200
    lowered = routine(client, user)[target]["level"]
    assert lowered == 1
    clock.advance(days=1)
    newer = build(client, user).json()
    clock.advance(minutes=30)
    calm = log_body(newer, clock, overrides={target: {"pain_during": 2}})
    assert put_log(client, user, newer["id"], calm).status_code == 200
    # The older log's effort is corrected; its pain (and so its regression) stands.
    fixed = dict(painful)
    fixed["entries"] = [{**e, "rpe": 6} for e in painful["entries"]]
    response = client.put(
        f"/v1/sessions/{older['id']}/log",
        headers={**user.headers, "If-Match": '"log-1"'},
        json=fixed,
    )
    assert response.status_code == 200, response.text
    assert routine(client, user)[target]["level"] == lowered
