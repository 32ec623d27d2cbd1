"""What an app's screens need beside the numbers (issue 17): a heading for every advice
status, the load an exercise was done against, media an app can lay out."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.schemas.pain import STATUS_TITLES
from tests.api.test_training import build, log_body, put_log
from tests.conftest import Account, AccountFactory, FakeClock

pytestmark = pytest.mark.usefixtures("seeded")


def test_every_advice_status_has_a_title_the_document_declares(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    doc = client.get("/openapi.json").json()
    statuses = doc["components"]["schemas"]["AdviceStatus"]["enum"]
    assert set(STATUS_TITLES) == set(statuses)
    assert len(set(STATUS_TITLES.values())) == len(statuses)
    advice = client.get("/v1/advice", headers=user.headers).json()
    assert advice["title"] == STATUS_TITLES[advice["status"]]
    urgent = {
        "recorded_at": clock.now.isoformat(),
        "phase": "daily",
        "pain": 4,
        "red_flags": {"saddle_numbness": True},
    }
    answer = client.post("/v1/checkins", headers=user.headers, json=urgent).json()["advice"]
    assert (answer["status"], answer["title"]) == (
        "urgent_care",
        "Stop exercising and get urgent care now",
    )
    history = client.get("/v1/advice/history", headers=user.headers).json()["items"]
    assert all(h["title"] == STATUS_TITLES[h["status"]] for h in history)


def _with_load(session: dict[str, Any], clock: FakeClock, load: Any) -> dict[str, Any]:
    body = log_body(session, clock)
    body["entries"][0]["load"] = load
    return body


def test_a_log_keeps_the_load_each_exercise_was_done_against(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    session = build(client, user).json()
    body = _with_load(session, clock, {"kg": 4.5})
    body["entries"][1]["load"] = {"band": "red"}
    stored = put_log(client, user, session["id"], body)
    assert stored.status_code == 200, stored.text
    entries = stored.json()["log"]["entries"]
    assert entries[0]["load"] == {"kg": 4.5, "band": None}
    assert entries[1]["load"] == {"kg": None, "band": "red"}
    assert entries[2]["load"] is None
    shown = client.get(f"/v1/sessions/{session['id']}", headers=user.headers).json()
    assert [e["load"] for e in shown["log"]["entries"]] == [e["load"] for e in entries]
    # The same body again is a retry; another load is a correction (If-Match needed).
    assert put_log(client, user, session["id"], body).status_code == 200
    body["entries"][0]["load"] = {"kg": 6}
    assert put_log(client, user, session["id"], body).status_code == 428


@pytest.mark.parametrize(
    ("load", "field"),
    [
        ({"kg": 0}, "entries.0.load.kg"),
        ({"kg": 301}, "entries.0.load.kg"),
        ({"band": ""}, "entries.0.load.band"),
        ({"pounds": 9}, "entries.0.load.pounds"),
        ({"kg": "4"}, "entries.0.load.kg"),
    ],
)
def test_a_load_out_of_bounds_is_refused_by_name(
    client: TestClient, user: Account, clock: FakeClock, load: Any, field: str
) -> None:
    session = build(client, user).json()
    response = put_log(client, user, session["id"], _with_load(session, clock, load))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_media_carry_what_an_app_lays_out_before_loading(
    client: TestClient, make_account: AccountFactory
) -> None:
    admin = make_account("admin")
    clip = {
        "url": "https://media.example.org/superman.mp4",
        "kind": "video",
        "thumbnail_url": "https://media.example.org/superman.jpg",
        "alt": "Lying face down, lifting both arms and legs a little",
        "duration_seconds": 12,
    }
    etag = client.get("/v1/exercises/superman").headers["etag"]
    edited = client.patch(
        "/v1/exercises/superman",
        headers={**admin.headers, "If-Match": etag},
        json={"media": [clip]},
    )
    assert edited.status_code == 200, edited.text
    shown = client.get("/v1/exercises/superman").json()["media"]
    assert shown == [{**clip, "caption": None}]
    etag = edited.headers["etag"]
    for bad, field in (
        ({**clip, "thumbnail_url": "ftp://x"}, "media.0.thumbnail_url"),
        ({**clip, "duration_seconds": 0}, "media.0.duration_seconds"),
        ({**clip, "alt": "x" * 301}, "media.0.alt"),
    ):
        refused = client.patch(
            "/v1/exercises/superman",
            headers={**admin.headers, "If-Match": etag},
            json={"media": [bad]},
        )
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [field]


def test_session_notes_come_as_items_an_app_can_lay_out(
    client: TestClient, user: Account, db: Engine
) -> None:
    tight = build(client, user, minutes=12, equipment=[])
    assert tight.status_code == 201, tight.text
    session = tight.json()
    left_out = [n for n in session["note_items"] if n["kind"] == "left_out_for_time"]
    assert {n["exercise_slug"] for n in left_out} == set(session["dropped"])
    assert all(n["name"] and n["name"] in session["notes"][-1] for n in left_out)
    assert all(n["text"] == "Left out to fit 12 minutes." for n in left_out)
    # A session built before notes had items shows its sentences as items of kind `note`.
    with db.begin() as conn:
        conn.execute(
            text("UPDATE sessions SET note_items = NULL WHERE id = :id"),
            {"id": uuid.UUID(session["id"]).hex if db.dialect.name == "sqlite" else session["id"]},
        )
    old = client.get(f"/v1/sessions/{session['id']}", headers=user.headers).json()
    assert old["note_items"] == [
        {"kind": "note", "text": t, "exercise_slug": None, "name": None} for t in old["notes"]
    ]


def test_steps_name_the_persons_dose_not_the_articles(client: TestClient, user: Account) -> None:
    catalog = client.get("/v1/exercises/glute-bridge").json()
    assert any("5 to 10 times" in s for s in catalog["steps"])  # the article's, as written
    routine = {i["exercise_slug"]: i for i in client.get("/v1/routine", headers=user.headers)
               .json()["items"]}  # fmt: skip
    bridge = routine["glute-bridge"]
    assert any(s.startswith(f"Repeat {bridge['reps']} times") for s in bridge["steps"])
    assert not any("5 to 10" in s for s in bridge["steps"])
    session = build(client, user, minutes=40, equipment=["mat"]).json()
    item = next(i for i in session["items"] if i["exercise_slug"] == "glute-bridge")
    assert item["steps"] == bridge["steps"]
    warm_up = next(i for i in session["items"] if i["block"] == "warmup")
    assert warm_up["steps"]  # steps with no dose in them, as the catalog has them


def test_an_empty_load_is_no_load(client: TestClient, user: Account, clock: FakeClock) -> None:
    session = build(client, user).json()
    body = _with_load(session, clock, {})
    stored = put_log(client, user, session["id"], body)
    assert stored.status_code == 200, stored.text
    assert stored.json()["log"]["entries"][0]["load"] is None
    # The same log without the empty load is the same log: a retry, not a correction.
    del body["entries"][0]["load"]
    again = put_log(client, user, session["id"], body)
    assert again.status_code == 200, again.text
    assert again.json()["log"]["version"] == 1
    # A correction is asked for in the log's own words, not an exercise's.
    body["entries"][0]["rpe"] = 6
    refused = put_log(client, user, session["id"], body)
    assert refused.status_code == 428
    assert "session log's current ETag" in refused.json()["detail"]
