"""Outcome measures through the API: instruments, scoring, replays, change, alerts, export."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from api.domain.evidence import iso
from api.main import create_app
from api.models import OutcomeRow
from api.services.instruments import InstrumentFileError
from tests.api.test_clinicians import link
from tests.conftest import Account, AccountFactory, FakeClock
from tests.conftest import test_settings as settings_for

SECTIONS = [
    "pain_intensity",
    "personal_care",
    "lifting",
    "walking",
    "sitting",
    "standing",
    "sleeping",
    "sex_life",
    "social_life",
    "travelling",
]
HIGH_RISK = {f"q{n}": 1 for n in range(1, 9)} | {"q9": 4}


def odi(total: int) -> dict[str, int]:
    """Ten sections adding up to `total` (so the score is total x 2)."""
    answers = {}
    for section in SECTIONS:
        answers[section] = min(5, total)
        total -= answers[section]
    return answers


def post(
    client: TestClient, who: Account, clock: FakeClock, instrument: str, answers: Any, **more: Any
) -> Any:
    body = {
        "recorded_at": clock.now.isoformat(),
        "instrument": instrument,
        "answers": answers,
        **more,
    }
    return client.post("/v1/outcomes", headers=who.headers, json=body)


def stored(db: Engine) -> int:
    with Session(db) as s:
        return s.exec(select(func.count()).select_from(OutcomeRow)).one()


def test_instruments_are_public_and_ship_only_licensed_text(client: TestClient) -> None:
    response = client.get("/v1/instruments")
    assert response.status_code == 200
    found = {i["instrument"]: i for i in response.json()["items"]}
    assert sorted(found) == ["nrs-weekly", "odi", "psfs", "startback"]
    startback = found["startback"]
    assert len(startback["items"]) == 9 and all(i["text"] for i in startback["items"])
    assert "Keele" in startback["licence"]["attribution"]
    assert "commercial" in startback["licence"]["note"]
    assert [b["band"] for b in startback["bands"]] == ["low", "medium", "high"]
    # The ODI's text is copyrighted: section names and scoring only.
    sections = found["odi"]["items"]
    assert [s["id"] for s in sections] == SECTIONS
    assert all(s["text"] is None and s["title"] for s in sections)
    assert all(o["label"] is None for s in sections for o in s["options"])
    assert found["odi"]["minimal_important_change"] == {"points": 10.0, "percent": 30.0}
    assert found["odi"]["scoring"]["min_answered"] == 8


def test_a_deployers_licensed_odi_text_is_served(
    database_url: str, db: Engine, tmp_path: Path
) -> None:
    text = {
        s: {"text": f"Placeholder question {s}", "options": {0: "none", 5: "worst"}}
        for s in SECTIONS
    }
    path = tmp_path / "odi.yaml"
    path.write_text(yaml.safe_dump(text), encoding="utf-8")
    app = create_app(settings_for(database_url, odi_text_file=path), engine=db)
    with TestClient(app) as client:
        odi_doc = next(
            i for i in client.get("/v1/instruments").json()["items"] if i["instrument"] == "odi"
        )
    first = odi_doc["items"][0]
    assert first["text"] == "Placeholder question pain_intensity"
    assert [o["label"] for o in first["options"]] == ["none", None, None, None, None, "worst"]


def test_an_outcome_is_scored_stored_once_and_replayed(
    client: TestClient, user: Account, clock: FakeClock, db: Engine
) -> None:
    ident = str(uuid.uuid4())
    # The same moment each time: the test clock ticks on every reading.
    when = clock.now.isoformat()
    first = post(client, user, clock, "startback", HIGH_RISK, id=ident, recorded_at=when)
    assert first.status_code == 201, first.text
    outcome = first.json()["outcome"]
    assert outcome["id"] == ident
    assert (outcome["score"], outcome["subscores"], outcome["band"]) == (
        9.0,
        {"distress": 5.0},
        "high",
    )
    assert outcome["change_from_first"] is None
    assert first.headers["location"] == f"/v1/outcomes/{ident}"
    again = post(client, user, clock, "startback", HIGH_RISK, id=ident, recorded_at=when)
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["outcome"] == first.json()["outcome"]
    # Each answer holds the advice evaluated with the outcome (here SB1's high risk).
    for answer in (first, again):
        assert "SB1" in {r["rule_id"] for r in answer.json()["advice"]["reasons"]}
    other = post(
        client, user, clock, "startback", HIGH_RISK | {"q1": 0}, id=ident, recorded_at=when
    )
    assert other.status_code == 409
    assert other.json()["type"].endswith("/client-id-reused")
    assert stored(db) == 1
    assert client.get(f"/v1/outcomes/{ident}", headers=user.headers).json() == outcome


def test_answers_that_cannot_be_scored_are_named_and_nothing_is_stored(
    client: TestClient, user: Account, clock: FakeClock, db: Engine
) -> None:
    bad = post(client, user, clock, "startback", HIGH_RISK | {"q9": 7, "q10": 1})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    fields = {e["field"]: e["code"] for e in bad.json()["errors"]}
    assert fields == {"answers.q9": "out_of_range", "answers.q10": "unknown"}
    missing = post(client, user, clock, "odi", dict.fromkeys(SECTIONS[:7], 1))
    assert {e["field"] for e in missing.json()["errors"]} == {f"answers.{s}" for s in SECTIONS[7:]}
    few = post(client, user, clock, "psfs", {"activities": [{"activity": "sit", "score": 3}]})
    assert [e["field"] for e in few.json()["errors"]] == ["answers.activities"]
    late = (clock.now + timedelta(hours=1)).isoformat()
    ahead = post(client, user, clock, "nrs-weekly", {"pain": 3}, recorded_at=late)
    assert [e["field"] for e in ahead.json()["errors"]] == ["recorded_at"]
    unknown = post(client, user, clock, "koos", {"pain": 3})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "instrument"
    assert stored(db) == 0


def test_change_from_the_first_answer_of_each_instrument(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    # ODI 40 then 28 (12 points, 30%: meaningful); an ODI at 36 is not (4 points, 10%).
    assert post(client, user, clock, "odi", odi(20)).json()["outcome"]["score"] == 40.0
    clock.advance(days=28)
    later = post(client, user, clock, "odi", odi(14)).json()["outcome"]
    assert later["change_from_first"] == {
        "points": -12.0,
        "percent": -30.0,
        "meaningful": True,
        "direction": "improved",
    }
    pain = post(client, user, clock, "nrs-weekly", {"pain": 5}).json()["outcome"]
    assert pain["change_from_first"] is None  # its own first
    clock.advance(days=1)
    small = post(client, user, clock, "odi", odi(18)).json()["outcome"]["change_from_first"]
    assert (small["points"], small["meaningful"]) == (-4.0, False)
    listed = client.get("/v1/outcomes", headers=user.headers, params={"instrument": "odi"}).json()
    assert [o["score"] for o in listed["items"]] == [40.0, 28.0, 36.0]
    assert listed["items"][0]["change_from_first"] is None
    # An earlier ODI synced late becomes the first: change is measured from it.
    early = (clock.now - timedelta(days=60)).isoformat()
    assert post(client, user, clock, "odi", odi(25), recorded_at=early).status_code == 201
    relisted = client.get("/v1/outcomes", headers=user.headers, params={"instrument": "odi"})
    by_score = {o["score"]: o["change_from_first"] for o in relisted.json()["items"]}
    assert by_score[50.0] is None and by_score[40.0]["points"] == -10.0


def test_since_returns_what_arrived_since(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    post(client, user, clock, "nrs-weekly", {"pain": 6})
    clock.advance(days=7)
    since = clock.now.isoformat()
    post(client, user, clock, "nrs-weekly", {"pain": 4})
    page = client.get("/v1/outcomes", headers=user.headers, params={"since": since}).json()
    assert [o["score"] for o in page["items"]] == [4.0]
    assert page["items"][0]["change_from_first"]["meaningful"] is True


def test_a_high_risk_startback_alerts_linked_clinicians_once(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    patient, clinician = make_account(), make_account("clinician")
    link(client, patient, clinician)
    low = post(client, patient, clock, "startback", dict.fromkeys(HIGH_RISK, 0))
    assert low.json()["outcome"]["band"] == "low"
    assert client.get("/v1/alerts", headers=clinician.headers).json()["items"] == []
    ident = post(client, patient, clock, "startback", HIGH_RISK).json()["outcome"]["id"]
    alerts = client.get("/v1/alerts", headers=clinician.headers).json()["items"]
    assert [(a["kind"], a["patient_id"]) for a in alerts] == [("outcome", patient.id)]
    assert alerts[0]["details"] == {
        "outcome_id": ident,
        "instrument": "startback",
        "score": 9.0,
        "subscores": {"distress": 5.0},
        "band": "high",
    }


def test_outcomes_are_exported_and_erased_with_the_account(
    client: TestClient, user: Account, clock: FakeClock, db: Engine
) -> None:
    post(client, user, clock, "nrs-weekly", {"pain": 6})
    exported = client.get("/v1/me/export", headers=user.headers).json()
    assert [o["score"] for o in exported["outcomes"]] == [6.0]
    gone = client.request(
        "DELETE", "/v1/me", headers=user.headers, json={"password": user.password}
    )
    assert gone.status_code == 204, gone.text
    assert stored(db) == 0


def test_the_app_refuses_to_start_on_a_broken_licensed_text(
    database_url: str, db: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "odi.yaml"
    path.write_text(yaml.safe_dump({"no_such_section": {"text": "x"}}), encoding="utf-8")
    with pytest.raises(InstrumentFileError, match="no_such_section"):
        create_app(settings_for(database_url, odi_text_file=path), engine=db)


def checkin(client: TestClient, who: Account, clock: FakeClock, pain: int = 2) -> None:
    body = {"recorded_at": clock.now.isoformat(), "phase": "daily", "pain": pain}
    assert client.post("/v1/checkins", headers=who.headers, json=body).status_code == 201


def test_the_advice_reads_startback_and_says_which_measure_is_due(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    checkin(client, user, clock)
    before = client.get("/v1/advice", headers=user.headers).json()
    # A new person: every measure is due now.
    assert before["measures_due"] == [
        {"instruments": ["startback"], "due_at": None},
        {"instruments": ["nrs-weekly"], "due_at": None},
        {"instruments": ["odi", "psfs"], "due_at": None},
    ]
    made = post(client, user, clock, "startback", HIGH_RISK).json()["outcome"]
    after = client.get("/v1/advice", headers=user.headers).json()
    sb1 = [r for r in after["reasons"] if r["rule_id"] == "SB1"]
    assert len(sb1) == 1 and sb1[0]["evidence"]["outcome_id"] == made["id"]
    assert "physiotherapist" in sb1[0]["message"]
    # It suggests care; it changes neither the status nor a dose.
    assert (after["status"], after["exercises"]) == (before["status"], before["exercises"])
    week = post(client, user, clock, "nrs-weekly", {"pain": 3}).json()["outcome"]
    due = client.get("/v1/advice", headers=user.headers).json()["measures_due"]
    recorded = datetime.fromisoformat(week["recorded_at"])
    assert due == [
        {"instruments": ["nrs-weekly"], "due_at": iso(recorded + timedelta(days=7))},
        {"instruments": ["odi", "psfs"], "due_at": None},
    ]
    # A later STarT Back that is not high risk clears the reason.
    post(client, user, clock, "startback", dict.fromkeys(HIGH_RISK, 0))
    cleared = client.get("/v1/advice", headers=user.headers).json()
    assert "SB1" not in {r["rule_id"] for r in cleared["reasons"]}


def test_startback_and_two_odis_four_weeks_apart_reach_advice_summary_alert_and_progress(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    patient, clinician = make_account(), make_account("clinician")
    link(client, patient, clinician)
    checkin(client, patient, clock)
    risk = post(client, patient, clock, "startback", HIGH_RISK).json()["outcome"]
    first = post(client, patient, clock, "odi", odi(22)).json()["outcome"]
    clock.advance(days=28)
    checkin(client, patient, clock)
    second = post(client, patient, clock, "odi", odi(15)).json()["outcome"]
    assert (first["score"], second["score"]) == (44.0, 30.0)

    advice = client.get("/v1/advice", headers=patient.headers).json()
    assert "SB1" in {r["rule_id"] for r in advice["reasons"]}
    # 44 then 30 is a meaningful improvement: no review is asked for.
    assert "F2" not in {r["rule_id"] for r in advice["reasons"]}
    due = {tuple(m["instruments"]): m["due_at"] for m in advice["measures_due"]}
    assert due[("odi", "psfs")] == iso(
        datetime.fromisoformat(second["recorded_at"]) + timedelta(days=28)
    )

    summary = client.get(f"/v1/patients/{patient.id}/summary", headers=clinician.headers).json()
    shown = [(o["instrument"], o["score"]) for o in summary["outcomes"]]
    assert shown == [("odi", 30.0), ("odi", 44.0), ("startback", 9.0)]
    assert summary["outcomes"][0]["change_from_first"] == {
        "points": -14.0,
        "percent": -31.8,
        "meaningful": True,
        "direction": "improved",
    }
    assert "SB1" in {r["rule_id"] for r in summary["advice"]["reasons"]}
    alerts = client.get("/v1/alerts", headers=clinician.headers).json()["items"]
    assert [a["details"]["outcome_id"] for a in alerts if a["kind"] == "outcome"] == [risk["id"]]

    progress = client.get("/v1/progress", headers=patient.headers, params={"days": 60}).json()
    assert [p["score"] for p in progress["outcomes"]["odi"]] == [44.0, 30.0]
    assert [p["band"] for p in progress["outcomes"]["startback"]] == ["high"]
    # Outside the window asked for, a series is absent.
    recent = client.get("/v1/progress", headers=patient.headers, params={"days": 7}).json()
    assert list(recent["outcomes"]) == ["odi"]


@pytest.mark.usefixtures("seeded")
def test_an_odi_not_improving_over_the_window_asks_for_a_review_and_alerts(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    patient, clinician = make_account(), make_account("clinician")
    link(client, patient, clinician)
    first = post(client, patient, clock, "odi", odi(22)).json()["outcome"]
    # Ten weeks on, with check-ins on the way: the first ODI is older than the rules'
    # evidence window, and still the one the latest is compared with.
    for _ in range(10):
        clock.advance(days=7)
        checkin(client, patient, clock)
    answered = post(client, patient, clock, "odi", odi(21)).json()
    latest = answered["outcome"]
    # The answer itself carries the review, stored then (history and alert included).
    assert answered["advice"]["status"] == "see_doctor"
    history = client.get("/v1/advice/history", headers=patient.headers).json()["items"]
    assert "see_doctor" in {h["status"] for h in history}
    advice = client.get("/v1/advice", headers=patient.headers).json()
    assert advice["status"] == "see_doctor"
    (review,) = [r for r in advice["reasons"] if r["rule_id"] == "F2"]
    assert review["evidence"] == {
        "instrument": "odi",
        "weeks": 4,
        "earlier_outcome_id": first["id"],
        "earlier_recorded_at": first["recorded_at"],
        "earlier_score": 44.0,
        "latest_outcome_id": latest["id"],
        "latest_recorded_at": latest["recorded_at"],
        "latest_score": 42.0,
        "days_apart": 70,
    }
    alerts = client.get("/v1/alerts", headers=clinician.headers).json()["items"]
    assert "see_doctor" in {a["kind"] for a in alerts}
    # What the message says is what a session then holds: gentle stretches.
    assert "sessions keep to gentle stretches" in review["message"]
    built = client.post("/v1/sessions", headers=patient.headers, json={"equipment": ["mat"]})
    assert built.status_code == 201, built.text
    assert "gentle_only" in {n["kind"] for n in built.json()["note_items"]}
    # A later ODI that shows the improvement ends it.
    clock.advance(days=1)
    post(client, patient, clock, "odi", odi(14))
    after = client.get("/v1/advice", headers=patient.headers).json()
    assert "F2" not in {r["rule_id"] for r in after["reasons"]}


def test_an_eager_answerer_still_gets_the_pair_from_a_window_before(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    # ODI 44, then eight answers of 42 on eight days four weeks later, then only
    # check-ins: the first answer is neither among the latest eight nor in the evidence
    # window, and is still the one the latest is compared with.
    first = post(client, user, clock, "odi", odi(22)).json()["outcome"]
    clock.advance(days=27)
    for _ in range(8):
        clock.advance(days=1)
        assert post(client, user, clock, "odi", odi(21)).status_code == 201
    for _ in range(15):
        clock.advance(days=1)
        checkin(client, user, clock)
    advice = client.get("/v1/advice", headers=user.headers).json()
    (review,) = [r for r in advice["reasons"] if r["rule_id"] == "F2"]
    assert review["evidence"]["earlier_outcome_id"] == first["id"]
    assert review["evidence"]["latest_score"] == 42.0
