"""Issue 15 through the HTTP API: the screen before the first session, what each answer
leaves out of built sessions, the gates, clinicians' clearances and alerts, and where
screens show (routine, progress, summary, export) and go (erasure)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from api.models import Screening
from tests.api.test_clinicians import link
from tests.api.test_rules_v2 import build, built, checkin, nine_tomorrow, put_log
from tests.api.test_training import log_body
from tests.conftest import ALL_CLEAR_SCREEN, Account, AccountFactory, FakeClock

pytestmark = pytest.mark.usefixtures("seeded")

PROBLEM = "application/problem+json"
OSTEOPOROSIS_OUT = {"partial-curl", "knee-hug", "lower-back-rotational-stretch"}
PREGNANCY_OUT = {
    "superman",
    "back-extension",
    "partial-curl",
    "knee-hug",
    "lower-back-rotational-stretch",
}


def answers(**changes: Any) -> dict[str, Any]:
    body = {**ALL_CLEAR_SCREEN, "risk_factors": dict(ALL_CLEAR_SCREEN["risk_factors"])}
    body.pop("pregnancy_weeks")
    body["birth_year"] = 1985
    for key, value in changes.items():
        if key in body["risk_factors"]:
            body["risk_factors"][key] = value
        else:
            body[key] = value
    return body


def put_screen(client: TestClient, user: Account, **changes: Any) -> dict[str, Any]:
    response = client.put("/v1/me/screening", headers=user.headers, json=answers(**changes))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def unscreened(make_account: AccountFactory, role: str = "user") -> Account:
    return make_account(role=role, screened=False)


def clear(
    client: TestClient,
    clinician: Account,
    patient: Account,
    cleared: list[str] | None,
    despite: list[str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"cleared": cleared}
    if despite is not None:
        body["cleared_despite_screening"] = despite
    response = client.put(
        f"/v1/patients/{patient.id}/routine", headers=clinician.headers, json=body
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_new_account_must_answer_the_screen_before_its_first_session(
    client: TestClient, make_account: AccountFactory
) -> None:
    user = unscreened(make_account)
    refused = build(client, user)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    problem = refused.json()
    assert problem["type"].endswith("/screening-required")
    assert "PUT /v1/me/screening" in problem["detail"]
    assert client.get(problem["type"]).status_code == 200  # the type resolves
    assert client.get("/v1/sessions", headers=user.headers).json()["items"] == []
    state = client.get("/v1/me/screening", headers=user.headers).json()
    assert state["screening"] is None and state["gates"] == ["screening_required"]

    result = put_screen(client, user)
    assert result["screening"]["osteoporosis"] is False
    assert result["excluded"] == [] and result["gates"] == []
    assert result["advice"]["ruleset_version"] == "v2"
    assert built(client, user)["items"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"pregnant": True}, "pregnancy_weeks"),
        ({"pregnant": True, "pregnancy_weeks": 0}, "pregnancy_weeks"),
        ({"pregnant": True, "pregnancy_weeks": 43}, "pregnancy_weeks"),
        ({"pregnant": False, "pregnancy_weeks": 10}, "pregnancy_weeks"),
        ({"osteoporosis": "yes"}, "osteoporosis"),
        ({"osteoporosis": None}, "osteoporosis"),
        ({"iv_drug_use": 1}, "risk_factors.iv_drug_use"),
        ({"moon_phase": True}, "moon_phase"),
        ({"birth_year": None}, "birth_year"),
        ({"birth_year": 2025}, "birth_year"),
    ],
    ids=lambda v: str(v),
)
def test_every_answer_is_required_and_checked(
    client: TestClient, make_account: AccountFactory, body: dict[str, Any], field: str
) -> None:
    user = unscreened(make_account)
    response = client.put("/v1/me/screening", headers=user.headers, json=answers(**body))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert client.get("/v1/me/screening", headers=user.headers).json()["screening"] is None


@pytest.mark.parametrize("missing", ["osteoporosis", "stenosis_or_spondylolisthesis",
                                     "risk_factors", "risk_factors.cancer_history"])  # fmt: skip
def test_no_answer_is_assumed(
    client: TestClient, make_account: AccountFactory, missing: str
) -> None:
    user = unscreened(make_account)
    body = answers()
    if "." in missing:
        del body["risk_factors"][missing.split(".")[1]]
    else:
        del body[missing]
    response = client.put("/v1/me/screening", headers=user.headers, json=body)
    assert response.status_code == 422, response.text
    assert missing in [e["field"] for e in response.json()["errors"]]


def _day_of_training(client: TestClient, user: Account, clock: FakeClock) -> dict[str, Any]:
    """Build today's session, log it comfortably, and check in the next morning."""
    session = built(client, user)
    checkin(client, user, clock, 1, "before", session_id=session["id"])
    clock.advance(minutes=30)
    put_log(client, user, session["id"], log_body(session, clock))
    clock.advance(hours=14)
    checkin(client, user, clock, 1, "next_morning", session_id=session["id"])
    nine_tomorrow(clock)
    return session


def test_osteoporosis_keeps_flexion_and_twisting_out_of_40_sessions_until_cleared(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    user = unscreened(make_account)
    # Signed up now: tokens are checked against the real time, not the test's clock.
    clinician = make_account(role="clinician")
    result = put_screen(client, user, osteoporosis=True)
    excluded = {(e["exercise_slug"], e["caution"]) for e in result["excluded"]}
    assert excluded == {
        ("partial-curl", "spinal-flexion"),
        ("knee-hug", "spinal-flexion"),
        ("lower-back-rotational-stretch", "spinal-rotation"),
    }
    assert all("Osteoporosis" in e["reason"] for e in result["excluded"])
    seen: set[str] = set()
    for _ in range(40):
        session = _day_of_training(client, user, clock)
        slugs = {i["exercise_slug"] for i in session["items"]}
        assert not slugs & OSTEOPOROSIS_OUT, (session["items"], session["advice"])
        seen |= slugs
    # The sessions did move on (exercises progressed), and never onto an excluded one.
    assert {"glute-bridge", "superman"} <= seen
    routine = client.get("/v1/routine", headers=user.headers).json()
    assert not {i["exercise_slug"] for i in routine["items"]} & OSTEOPOROSIS_OUT
    assert {e["exercise_slug"] for e in routine["excluded"]} == OSTEOPOROSIS_OUT
    progress = client.get("/v1/progress", headers=user.headers).json()
    assert {e["exercise_slug"] for e in progress["excluded"]} == OSTEOPOROSIS_OUT

    # A linked clinician clears the knee hug for this patient: it may come back.
    link(client, user, clinician)
    allowed = [s for s in _catalog_slugs(client) if s not in OSTEOPOROSIS_OUT]
    # Listed alone, it stays out: a clearance despite the screen is said explicitly.
    plan = clear(client, clinician, user, [*allowed, "knee-hug"])
    assert plan["cleared_under"] == {}
    assert "knee-hug" not in {i["exercise_slug"] for i in built(client, user)["items"]}
    plan = clear(client, clinician, user, [*allowed, "knee-hug"], despite=["knee-hug"])
    assert plan["cleared_under"] == {"knee-hug": ["spinal-flexion"]}
    session = built(client, user)
    slugs = {i["exercise_slug"] for i in session["items"]}
    assert "knee-hug" in slugs
    assert not slugs & (OSTEOPOROSIS_OUT - {"knee-hug"})
    state = client.get("/v1/me/screening", headers=user.headers).json()
    assert [e["exercise_slug"] for e in state["cleared_by_clinician"]] == ["knee-hug"]
    # The clearance is recorded as one made despite a caution.
    actions = client.get("/v1/me/export", headers=user.headers).json()["clinician_actions"]
    assert actions[-1]["details"]["cleared_under"] == {"knee-hug": ["spinal-flexion"]}


def _catalog_slugs(client: TestClient) -> list[str]:
    items = client.get("/v1/exercises").json()["items"]
    return [e["slug"] for e in items if e["category"] != "warmup"]


def test_pregnancy_past_12_weeks_leaves_out_lying_face_down_and_keeps_back_lying_short(
    client: TestClient, make_account: AccountFactory
) -> None:
    user = unscreened(make_account)
    result = put_screen(client, user, pregnant=True, pregnancy_weeks=20)
    assert {e["exercise_slug"] for e in result["excluded"]} == PREGNANCY_OUT
    assert [(x["exercise_slug"], x["limit"]) for x in result["limited"]] == [
        ("glute-bridge", {"hold_seconds": 3})
    ]
    items = {i["exercise_slug"]: i for i in built(client, user)["items"]}
    assert not set(items) & PREGNANCY_OUT
    assert items["glute-bridge"]["hold_seconds"] <= 3
    # Before 12 weeks nothing is left out for pregnancy.
    early = put_screen(client, user, pregnant=True, pregnancy_weeks=10)
    assert early["excluded"] == [] and early["limited"] == []


def test_spinal_surgery_needs_a_linked_clinicians_clearance_given_after_the_answer(
    client: TestClient, make_account: AccountFactory
) -> None:
    user = unscreened(make_account)
    clinician = make_account(role="clinician")
    link(client, user, clinician)
    clear(client, clinician, user, ["glute-bridge"])  # before the surgery answer
    result = put_screen(client, user, spinal_surgery_last_12_months=True)
    assert result["gates"] == ["spinal_surgery_last_12_months"]
    refused = build(client, user)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/clinician-clearance-required")
    assert problem["gates"] == ["spinal_surgery_last_12_months"]
    assert "spinal surgery" in problem["detail"]
    # The clinician hears that an exercise they cleared is now ruled out.
    alerts = client.get("/v1/alerts", headers=clinician.headers).json()["items"]
    screening = [a for a in alerts if a["kind"] == "screening"]
    assert len(screening) == 1 and screening[0]["details"]["excluded_cleared"] == ["glute-bridge"]

    plan = clear(client, clinician, user, ["glute-bridge"], despite=["glute-bridge"])
    assert plan["cleared_under"] == {"glute-bridge": ["spinal_surgery_last_12_months"]}
    session = built(client, user)
    # Each exercise needs clearing after surgery, the warm-up too.
    assert [i["exercise_slug"] for i in session["items"]] == ["glute-bridge"]
    assert any("No warm-up" in note for note in session["notes"])
    plan = clear(client, clinician, user, ["warm-up", "glute-bridge"], despite=["warm-up"])
    assert plan["cleared_under"] == {
        "glute-bridge": ["spinal_surgery_last_12_months"],
        "warm-up": ["spinal_surgery_last_12_months"],
    }
    items = [i["exercise_slug"] for i in built(client, user)["items"]]
    assert items == ["warm-up", "glute-bridge"]
    # The clearance ends with the link, and a new link does not bring it back.
    links = client.get("/v1/me/clinicians", headers=user.headers).json()["items"]
    gone = client.delete(f"/v1/me/clinicians/{links[0]['id']}", headers=user.headers)
    assert gone.status_code == 204, gone.text
    assert build(client, user).json()["type"].endswith("/clinician-clearance-required")
    link(client, user, clinician)
    assert build(client, user).json()["type"].endswith("/clinician-clearance-required")


def test_under_16_needs_a_linked_clinician(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    user = unscreened(make_account)
    result = put_screen(client, user, birth_year=clock.now.year - 14)
    assert result["gates"] == ["under_16"]
    assert client.get("/v1/me", headers=user.headers).json()["birth_year"] == clock.now.year - 14
    # Once screened, the birth year can be corrected but not removed.
    removed = client.patch("/v1/me", headers=user.headers, json={"birth_year": None})
    assert removed.status_code == 422 and removed.json()["errors"][0]["field"] == "birth_year"
    refused = build(client, user)
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/clinician-clearance-required")
    assert refused.json()["gates"] == ["under_16"]
    clinician = make_account(role="clinician")
    link(client, user, clinician)
    cleared = ["warm-up", "glute-bridge", "knee-hug"]
    clear(client, clinician, user, cleared, despite=cleared)
    assert {i["exercise_slug"] for i in built(client, user)["items"]} == set(cleared)


def test_clinicians_see_screens_risk_factors_and_alerts(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    user = unscreened(make_account)
    clinician, outsider = make_account(role="clinician"), make_account(role="clinician")
    link(client, user, clinician)
    clear(client, clinician, user, _catalog_slugs(client))
    put_screen(client, user)
    clock.advance(minutes=5)
    put_screen(client, user, osteoporosis=True, long_term_steroids=True)
    summary = client.get(f"/v1/patients/{user.id}/summary", headers=clinician.headers).json()
    assert summary["screening"]["latest"]["osteoporosis"] is True
    assert [s["osteoporosis"] for s in summary["screening"]["history"]] == [True, False]
    assert {e["exercise_slug"] for e in summary["screening_outcome"]["excluded"]} == (
        OSTEOPOROSIS_OUT
    )
    assert summary["patient"]["risk_factors"] == ["long_term_steroids"]
    patients = client.get("/v1/patients", headers=clinician.headers).json()["items"]
    assert patients[0]["risk_factors"] == ["long_term_steroids"] and patients[0]["screened"]
    alerts = [
        a for a in client.get("/v1/alerts", headers=clinician.headers).json()["items"]
        if a["kind"] == "screening"
    ]  # fmt: skip
    assert len(alerts) == 1
    assert sorted(alerts[0]["details"]["excluded_cleared"]) == sorted(OSTEOPOROSIS_OUT)
    assert alerts[0]["details"]["new_risk_factors"] == ["long_term_steroids"]
    assert alerts[0]["risk_factors"] == ["long_term_steroids"]
    # Another clinician, not linked, sees none of it.
    denied = client.get(f"/v1/patients/{user.id}/summary", headers=outsider.headers)
    assert denied.status_code == 404
    assert client.get("/v1/alerts", headers=outsider.headers).json()["items"] == []


def test_export_holds_every_screen_and_erasure_removes_them(
    client: TestClient, make_account: AccountFactory, clock: FakeClock, db: Engine
) -> None:
    user = unscreened(make_account)
    put_screen(client, user)
    clock.advance(minutes=1)
    put_screen(client, user, pregnant=True, pregnancy_weeks=14)
    export = client.get("/v1/me/export", headers=user.headers).json()
    assert [s["pregnant"] for s in export["screenings"]] == [False, True]
    response = client.request(
        "DELETE", "/v1/me", headers=user.headers, json={"password": user.password}
    )
    assert response.status_code == 204, response.text
    with Session(db) as s:
        assert s.exec(select(func.count()).select_from(Screening)).one() == 0


def test_screens_are_private(client: TestClient, make_account: AccountFactory) -> None:
    mine, other = unscreened(make_account), unscreened(make_account)
    put_screen(client, mine, osteoporosis=True)
    theirs = client.get("/v1/me/screening", headers=other.headers).json()
    assert theirs["screening"] is None and theirs["excluded"] == []


def test_a_risk_factor_brings_the_review_forward_to_two_weeks(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    user = unscreened(make_account)
    put_screen(client, user, cancer_history=True)
    for day in range(14):
        if day:
            clock.advance(days=1)
        result = checkin(client, user, clock, 5)
    f2 = [r for r in result["advice"]["reasons"] if r["rule_id"] == "F2"]
    assert f2 and f2[0]["evidence"]["weeks"] == 2, result["advice"]
    assert f2[0]["evidence"]["risk_factors"] == ["cancer_history"]


def test_a_clearance_despite_the_screen_names_cleared_exercises_and_alerts_once(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    user, clinician = unscreened(make_account), make_account(role="clinician")
    link(client, user, clinician)
    put_screen(client, user, osteoporosis=True)
    response = client.put(
        f"/v1/patients/{user.id}/routine",
        headers=clinician.headers,
        json={"cleared": ["glute-bridge"], "cleared_despite_screening": ["knee-hug"]},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "cleared_despite_screening"
    clear(client, clinician, user, ["glute-bridge", "knee-hug"], despite=["knee-hug"])
    # The same answer given again, after a clearance despite it: nothing new to hear.
    clock.advance(minutes=1)
    put_screen(client, user)
    clock.advance(minutes=1)
    again = put_screen(client, user, osteoporosis=True)
    assert [e["exercise_slug"] for e in again["cleared_by_clinician"]] == ["knee-hug"]
    alerts = client.get("/v1/alerts", headers=clinician.headers).json()["items"]
    assert [a for a in alerts if a["kind"] == "screening"] == []
