"""Check-ins and advice through the API, as the mobile app uses them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.conftest import Account, AccountFactory, FakeClock


def checkin(clock: FakeClock, pain: int = 2, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "recorded_at": (clock.now - timedelta(minutes=1)).isoformat(),
        "phase": "daily",
        "pain": pain,
    }
    body.update(fields)
    return body


def post(client: TestClient, account: Account, body: dict[str, Any]) -> Any:
    return client.post("/v1/checkins", headers=account.headers, json=body)


def test_saddle_numbness_is_urgent_at_once_and_stays_until_resolved(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    flagged = post(client, user, checkin(clock, 3, red_flags={"saddle_numbness": True}))
    assert flagged.status_code == 201, flagged.text
    advice = flagged.json()["advice"]
    assert advice["status"] == "urgent_care"
    assert advice["reasons"][0]["rule_id"] == "RF1"
    assert "emergency" in advice["reasons"][0]["message"]
    assert advice["reasons"][0]["evidence"]["flags"] == ["saddle_numbness"]
    assert flagged.json()["checkin"]["red_flags"] == {"saddle_numbness": True}

    for _ in range(3):
        clock.advance(hours=5)
        ordinary = post(client, user, checkin(clock, 1, red_flags={"saddle_numbness": False}))
        assert ordinary.json()["advice"]["status"] == "urgent_care"
        assert client.get("/v1/advice", headers=user.headers).json()["status"] == "urgent_care"

    # "Resolved" together with a red flag is refused outright.
    bad = post(
        client, user, checkin(clock, 1, red_flags={"both_legs": True}, red_flags_resolved=True)
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "red_flags_resolved"

    # Ruleset v2: "I'm fine" alone is kept as a statement and clears nothing, nor does an
    # assessment dated before the flag.
    clock.advance(hours=5)
    statement = post(client, user, checkin(clock, 1, red_flags_resolved=True))
    assert statement.status_code == 201
    assert statement.json()["checkin"]["red_flags_resolved"] is True
    assert statement.json()["checkin"]["assessment"] is None
    assert statement.json()["advice"]["status"] == "urgent_care"
    flag_time = flagged.json()["checkin"]["recorded_at"]
    earlier = (datetime.fromisoformat(flag_time) - timedelta(hours=1)).isoformat()
    too_early = {"assessed_by": "doctor", "assessed_at": earlier}
    assert (
        post(client, user, checkin(clock, 1, red_flags_resolved=too_early)).json()["advice"][
            "status"
        ]
        == "urgent_care"
    )

    clock.advance(hours=5)
    seen = {"assessed_by": "emergency_department", "assessed_at": flag_time}
    resolved = post(client, user, checkin(clock, 1, red_flags_resolved=seen))
    assert resolved.status_code == 201, resolved.text
    assert resolved.json()["checkin"]["assessment"]["assessed_by"] == "emergency_department"
    assert resolved.json()["advice"]["status"] == "maintain"
    assert client.get("/v1/advice", headers=user.headers).json()["status"] == "maintain"

    history = client.get("/v1/advice/history", headers=user.headers).json()["items"]
    assert [h["status"] for h in history] == ["maintain", "urgent_care"]
    assert [h["ruleset_version"] for h in history] == ["v2", "v2"]


def test_urgent_care_is_kept_however_much_later(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    post(client, user, checkin(clock, 3, red_flags={"bladder_bowel_change": True}))
    clock.advance(days=200)  # far beyond the rules' window
    post(client, user, checkin(clock, 0))
    assert client.get("/v1/advice", headers=user.headers).json()["status"] == "urgent_care"


def test_other_red_flags_mean_see_a_doctor(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    response = post(client, user, checkin(clock, 2, red_flags={"fever_or_unwell": True}))
    assert response.json()["advice"]["status"] == "see_doctor"
    assert response.json()["advice"]["reasons"][0]["rule_id"] == "RF2"


def test_retries_are_idempotent_and_conflicts_refused(
    client: TestClient, user: Account, clock: FakeClock, db: Engine
) -> None:
    ident = str(uuid.uuid4())
    body = checkin(clock, 4, id=ident, note="after gardening")
    first = post(client, user, body)
    assert first.status_code == 201
    again = post(client, user, body)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["checkin"] == first.json()["checkin"]
    # The same instant written in another time zone is the same check-in.
    shifted = dict(body)
    shifted["recorded_at"] = (
        datetime.fromisoformat(body["recorded_at"]).astimezone(timezone(timedelta(hours=9)))
    ).isoformat()
    assert post(client, user, shifted).headers["idempotent-replayed"] == "true"
    conflict = post(client, user, {**body, "pain": 5})
    assert conflict.status_code == 409
    assert conflict.json()["type"] == "/problems/client-id-reused"
    with db.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM checkins")).scalar_one() == 1
        assert conn.execute(text("SELECT pain FROM checkins")).scalar_one() == 4


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pain": 11}, "pain"),
        ({"pain": -1}, "pain"),
        ({"pain": 2.5}, "pain"),
        ({"phase": "lunch"}, "phase"),
        ({"recorded_at": "2026-01-01T10:00:00"}, "recorded_at"),  # no offset
        ({"exercise_slug": "moonwalk"}, "exercise_slug"),
        ({"red_flags": {"headache": True}}, "red_flags.headache"),
        ({"user_id": str(uuid.uuid4())}, "user_id"),
        ({"note": "x" * 1001}, "note"),
    ],
)
def test_bad_check_ins_name_the_field_and_store_nothing(
    client: TestClient,
    user: Account,
    clock: FakeClock,
    db: Engine,
    seeded: Any,
    change: dict[str, Any],
    field: str,
) -> None:
    response = post(client, user, {**checkin(clock), **change})
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    with db.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM checkins")).scalar_one() == 0


def test_future_check_ins_are_refused_beyond_a_small_skew(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    soon = checkin(clock, recorded_at=(clock.now + timedelta(minutes=3)).isoformat())
    assert post(client, user, soon).status_code == 201
    later = checkin(clock, recorded_at=(clock.now + timedelta(hours=2)).isoformat())
    response = post(client, user, later)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "recorded_at"


def test_ordering_uses_recorded_time_not_arrival(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    # An emergency reported offline earlier, synced after a later resolution, still stands:
    # the resolution was recorded before it.
    resolution_at = clock.now - timedelta(hours=1)
    emergency_at = clock.now - timedelta(minutes=30)
    post(
        client,
        user,
        checkin(clock, 1, red_flags_resolved=True, recorded_at=resolution_at.isoformat()),
    )
    late = post(
        client,
        user,
        checkin(clock, 2, red_flags={"both_legs": True}, recorded_at=emergency_at.isoformat()),
    )
    assert late.json()["advice"]["status"] == "urgent_care"


def test_one_user_never_sees_anothers_check_ins_or_advice(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    alice, bob = make_account(), make_account()
    mine = post(client, alice, checkin(clock, 7, red_flags={"night_pain": True})).json()
    theirs_id = mine["checkin"]["id"]
    assert client.get(f"/v1/checkins/{theirs_id}", headers=alice.headers).status_code == 200
    response = client.get(f"/v1/checkins/{theirs_id}", headers=bob.headers)
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/not-found"
    assert client.get("/v1/checkins", headers=bob.headers).json()["items"] == []
    assert client.get("/v1/advice", headers=bob.headers).json()["status"] == "maintain"
    # Reading advice stores nothing (GETs never write), and nothing of Alice's shows.
    assert client.get("/v1/advice/history", headers=bob.headers).json()["items"] == []
    # Reusing Alice's id does not touch her check-in.
    steal = post(client, bob, checkin(clock, 0, id=theirs_id))
    assert steal.status_code == 409
    assert "checkin" not in steal.json() and "pain" not in steal.text
    assert client.get(f"/v1/checkins/{theirs_id}", headers=alice.headers).json()["pain"] == 7
    assert client.get("/v1/advice", headers=alice.headers).json()["status"] == "see_doctor"


def test_list_since_and_pages(client: TestClient, user: Account, clock: FakeClock) -> None:
    for pain in range(5):
        post(client, user, checkin(clock, pain))
    clock.advance(minutes=1)
    cutoff = clock.now
    for pain in range(5, 8):
        post(client, user, checkin(clock, pain))
    newer = client.get(
        "/v1/checkins", headers=user.headers, params={"since": cutoff.isoformat()}
    ).json()
    assert [c["pain"] for c in newer["items"]] == [5, 6, 7]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/checkins", headers=user.headers, params=params).json()
        seen += [c["pain"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(range(8))
    naive = client.get("/v1/checkins", headers=user.headers, params={"since": "2026-01-01T00:00"})
    assert naive.status_code == 422


def test_advice_history_keeps_only_changes(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    for _ in range(4):
        post(client, user, checkin(clock, 2))
        client.get("/v1/advice", headers=user.headers)
    assert len(client.get("/v1/advice/history", headers=user.headers).json()["items"]) == 1
    post(client, user, checkin(clock, 9))  # pain at rest of 9: see a doctor
    history = client.get("/v1/advice/history", headers=user.headers).json()["items"]
    assert [h["status"] for h in history] == ["see_doctor", "maintain"]
    assert history[0]["reasons"][0]["evidence"]["pain"] == 9


def test_during_check_in_for_an_exercise(
    client: TestClient, user: Account, clock: FakeClock, seeded: Any
) -> None:
    response = post(client, user, checkin(clock, 7, phase="during", exercise_slug="superman"))
    assert response.status_code == 201
    advice = response.json()["advice"]
    assert advice["status"] == "regress"
    assert advice["reasons"][0]["rule_id"] == "P1"
    assert advice["reasons"][0]["exercises"] == ["superman"]


def test_export_and_erasure_cover_check_ins(
    client: TestClient, user: Account, clock: FakeClock, db: Engine
) -> None:
    post(client, user, checkin(clock, 9, note="a private note"))
    export = client.get("/v1/me/export", headers=user.headers).json()
    assert [c["note"] for c in export["checkins"]] == ["a private note"]
    assert export["advice"][0]["status"] == "see_doctor"
    client.request("DELETE", "/v1/me", headers=user.headers, json={"password": user.password})
    with db.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM checkins")).scalar_one() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM advice")).scalar_one() == 0


def test_a_check_in_dated_slightly_ahead_counts_at_once(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    ahead = (clock.now + timedelta(minutes=2)).isoformat()
    response = post(
        client, user, checkin(clock, 9, recorded_at=ahead, red_flags={"fever_or_unwell": True})
    )
    assert response.status_code == 201
    assert response.json()["advice"]["status"] == "see_doctor"
    # Stored as no later than its arrival.
    stored = datetime.fromisoformat(response.json()["checkin"]["recorded_at"])
    assert stored <= datetime.fromisoformat(response.json()["checkin"]["received_at"])


def test_an_emergency_synced_after_a_resolution_still_stands(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    # The phone recorded the emergency offline an hour ago; a resolution (about an
    # earlier matter) reached the server first, recorded half an hour ago.
    emergency_at = (clock.now - timedelta(hours=1)).isoformat()
    resolution_at = (clock.now - timedelta(minutes=30)).isoformat()
    assessment = {"assessed_by": "doctor", "assessed_at": resolution_at}
    post(client, user, checkin(clock, 1, red_flags_resolved=assessment, recorded_at=resolution_at))
    clock.advance(minutes=1)
    late = post(
        client, user, checkin(clock, 2, red_flags={"both_legs": True}, recorded_at=emergency_at)
    )
    assert late.json()["advice"]["status"] == "urgent_care"
    assert client.get("/v1/advice", headers=user.headers).json()["status"] == "urgent_care"
    clock.advance(minutes=1)
    seen = {"assessed_by": "doctor", "assessed_at": (clock.now - timedelta(minutes=1)).isoformat()}
    cleared = post(client, user, checkin(clock, 1, red_flags_resolved=seen))
    assert cleared.json()["advice"]["status"] == "maintain"


def test_an_assessment_is_validated_field_by_field(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    later = (clock.now + timedelta(hours=2)).isoformat()
    for resolved, field in (
        ({"assessed_by": "nurse", "assessed_at": clock.now.isoformat()}, "assessed_by"),
        ({"assessed_by": "doctor"}, "assessed_at"),
        ({"assessed_by": "doctor", "assessed_at": "yesterday"}, "assessed_at"),
        ({"assessed_by": "doctor", "assessed_at": later}, "assessed_at"),
    ):
        response = post(client, user, checkin(clock, 1, red_flags_resolved=resolved))
        assert response.status_code == 422, response.text
        fields = [e["field"] for e in response.json()["errors"]]
        assert fields == [f"red_flags_resolved.{field}"], (resolved, fields)
    assert client.get("/v1/checkins", headers=user.headers).json()["items"] == []


def test_a_check_in_names_only_a_session_of_ones_own(
    client: TestClient, make_account: AccountFactory, clock: FakeClock, db: Engine, seeded: Any
) -> None:
    alice, bob = make_account(), make_account()
    built = client.post("/v1/sessions", headers=alice.headers, json={"minutes": 20})
    assert built.status_code == 201, built.text
    hers = built.json()["id"]
    response = post(client, bob, checkin(clock, 3, phase="after", session_id=hers))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [(e["field"], e["message"]) for e in errors] == [
        ("session_id", "no such session of yours")
    ]
    with db.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM checkins")).scalar_one() == 0
    mine = post(client, alice, checkin(clock, 3, phase="after", session_id=hers))
    assert mine.status_code == 201, mine.text
    assert mine.json()["checkin"]["session_id"] == hers
    # A session the server has not seen yet (an offline app syncing out of order) is
    # taken: a pain report is never lost over its session.
    unseen = str(uuid.uuid4())
    offline = post(client, bob, checkin(clock, 4, phase="after", session_id=unseen))
    assert offline.status_code == 201, offline.text
    assert offline.json()["checkin"]["session_id"] == unseen
