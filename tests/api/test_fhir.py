"""The record as FHIR R4 through the API (issue 19): every resource validated against the
R4B models of `fhir.resources`, counts against what was stored, pages, `_since`, access."""

from __future__ import annotations

import base64
import json
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import Engine
from sqlmodel import Session

from api.models import OutcomeRow
from tests.api.test_clinicians import link
from tests.api.test_outcomes import HIGH_RISK, odi, post
from tests.conftest import Account, AccountFactory, FakeClock

pytestmark = pytest.mark.usefixtures("seeded")
INSTRUMENTS = ("startback", "odi", "psfs", "nrs-weekly")


def record(client: TestClient, who: Account, clock: FakeClock) -> dict[str, Any]:
    """A few weeks of a person's use: a session built and logged, check-ins of every
    kind, and each outcome measure. Returns what was made, to count against."""
    built = client.post("/v1/sessions", headers=who.headers, json={"equipment": ["mat"]})
    assert built.status_code == 201, built.text
    session = built.json()
    item = next(i for i in session["items"] if i["block"] != "warmup")
    start = clock.now - timedelta(minutes=20)
    entry = {"exercise_slug": item["exercise_slug"], "sets_completed": 2, "reps": [8, 6]}
    log = {
        "started_at": start.isoformat(),
        "ended_at": clock.now.isoformat(),
        "entries": [entry],
        "pain_after": 3,
    }
    logged = client.put(f"/v1/sessions/{session['id']}/log", headers=who.headers, json=log)
    assert logged.status_code == 200, logged.text
    checkins = [
        {"phase": "before", "pain": 2, "session_id": session["id"]},
        {"phase": "during", "pain": 3, "exercise_slug": item["exercise_slug"]},
        {"phase": "daily", "pain": 4, "note": "Stiff after the drive."},
    ]
    for body in checkins:
        clock.advance(minutes=5)
        body["recorded_at"] = clock.now.isoformat()
        made = client.post("/v1/checkins", headers=who.headers, json=body)
        assert made.status_code == 201, made.text
    rated = [("Gardening", 4), ("Running", 2), ("Lifting my child", 5)]
    psfs = {"activities": [{"activity": a, "score": s} for a, s in rated]}
    answers = [
        ("startback", HIGH_RISK),
        ("odi", odi(22)),
        ("psfs", psfs),
        ("nrs-weekly", {"pain": 5}),
    ]
    for instrument, given in answers:
        assert post(client, who, clock, instrument, given).status_code == 201
    return {"session": session, "checkins": len(checkins), "outcomes": len(answers)}


def pull(client: TestClient, who: Account, url: str, **params: Any) -> dict[str, Any]:
    response = client.get(url, headers=who.headers, params=params or None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    return dict(response.json())


def resources(bundle: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    found = [e["resource"] for e in bundle["entry"]]
    return [r for r in found if kind is None or r["resourceType"] == kind]


def codes(resource: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in resource["code"]["coding"]}


def test_every_resource_validates_and_each_check_in_is_one_pain_observation(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    made = record(client, user, clock)
    bundle = pull(client, user, "/v1/me/fhir")
    # The whole Bundle, and each resource on its own, as the R4B models read them.
    Bundle.model_validate(bundle)
    for resource in resources(bundle):
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    assert bundle["type"] == "collection"
    assert [link["relation"] for link in bundle["link"]] == ["self"]

    kinds = Counter(r["resourceType"] for r in resources(bundle))
    routine = client.get("/v1/routine", headers=user.headers).json()
    assert kinds["Patient"] == 1 and kinds["CarePlan"] == 1 and kinds["Procedure"] == 1
    assert kinds["QuestionnaireResponse"] == made["outcomes"]
    # The routine as GET /v1/routine prescribes it is what is active; the CarePlan lists it.
    requests = resources(bundle, "ServiceRequest")
    active = {r["orderDetail"][0]["coding"][0]["code"] for r in requests if r["status"] == "active"}
    assert active == {i["exercise_slug"] for i in routine["items"]}
    (plan,) = resources(bundle, "CarePlan")
    url_of = {e["resource"]["id"]: e["fullUrl"] for e in bundle["entry"]}
    assert {a["reference"]["reference"] for a in plan["activity"]} == {
        url_of[r["id"]] for r in requests if r["status"] == "active"
    }
    assert {r["status"] for r in requests} <= {"active", "on-hold", "revoked"}
    pain = [
        o for o in resources(bundle, "Observation") if ("http://loinc.org", "72514-3") in codes(o)
    ]
    assert len(pain) == made["checkins"]
    assert sorted(o["valueInteger"] for o in pain) == [2, 3, 4]
    phases = {o["component"][0]["valueCodeableConcept"]["coding"][0]["code"] for o in pain}
    assert phases == {"before", "during", "daily"}
    assert [n["text"] for o in pain for n in o.get("note", [])] == ["Stiff after the drive."]

    # Each outcome: its questionnaire, carried in the page with its LOINC panel where
    # LOINC has one, and a score Observation derived from it.
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    forms = {q["url"]: q for q in resources(bundle, "Questionnaire")}
    answered = {q["questionnaire"]: q for q in resources(bundle, "QuestionnaireResponse")}
    base = "https://backstrong.app/fhir/Questionnaire"
    assert set(answered) == set(forms) == {f"{base}/{n}" for n in INSTRUMENTS}
    panels = {url: [c["code"] for c in q.get("code", [])] for url, q in forms.items()}
    assert panels == {
        f"{base}/startback": ["91349-1"],
        f"{base}/odi": ["97908-8"],
        f"{base}/psfs": [],
        f"{base}/nrs-weekly": [],
    }
    for url, response in answered.items():  # every answer names an item of its form
        links = {i["linkId"] for i in forms[url]["item"]}
        assert {i["linkId"] for i in response["item"]} <= links, url
    activities = answered[f"{base}/psfs"]["item"]
    assert [
        (a["item"][0]["answer"][0]["valueString"], a["item"][1]["answer"][0]["valueInteger"])
        for a in activities
    ] == [("Gardening", 4), ("Running", 2), ("Lifting my child", 5)]
    scores = {
        by_url[o["derivedFrom"][0]["reference"]]["questionnaire"]: o
        for o in resources(bundle, "Observation")
        if "derivedFrom" in o
    }
    odi_score = scores[f"{base}/odi"]
    assert ("http://loinc.org", "97909-6") in codes(odi_score)
    assert odi_score["valueQuantity"]["value"] == 44.0
    assert odi_score["interpretation"][0]["coding"][0]["code"] == "severe"
    assert scores[f"{base}/startback"]["interpretation"][0]["coding"][0]["code"] == "high"

    # The routine: exercise therapy, one request per exercise, the dose as quantity and note.
    for request in resources(bundle, "ServiceRequest"):
        assert ("http://snomed.info/sct", "229065009") in codes(request)
        assert request["quantityQuantity"]["value"] >= 1 and request["note"][0]["text"]
    (procedure,) = resources(bundle, "Procedure")
    assert procedure["id"] == made["session"]["id"]
    assert "2 sets (8, 6 reps)" in procedure["note"][0]["text"]

    assert_self_contained(bundle)


def assert_self_contained(bundle: dict[str, Any]) -> None:
    """Every full URL once, and every reference resolves within this one Bundle."""
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    found = (v["reference"] for v in _values(bundle["entry"], "reference"))
    refs = {r for r in found if isinstance(r, str)}
    assert refs and refs <= set(full_urls), refs - set(full_urls)


def _values(value: Any, key: str) -> list[Any]:
    if isinstance(value, dict):
        here = [value] if key in value else []
        return here + [v for item in value.values() for v in _values(item, key)]
    if isinstance(value, list):
        return [v for item in value for v in _values(item, key)]
    return []


def test_ids_are_stable_and_a_pull_since_a_moment_holds_only_what_changed(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    record(client, user, clock)
    first = pull(client, user, "/v1/me/fhir")
    again = pull(client, user, "/v1/me/fhir")
    assert [e["resource"] for e in again["entry"]] == [e["resource"] for e in first["entry"]]

    clock.advance(hours=1)
    since = clock.now
    body = {"recorded_at": clock.now.isoformat(), "phase": "daily", "pain": 3}
    new = client.post("/v1/checkins", headers=user.headers, json=body).json()["checkin"]
    delta = pull(client, user, "/v1/me/fhir", _since=since.isoformat())
    # The Patient and the routine lead every page; then only what changed.
    kinds = [r["resourceType"] for r in resources(delta)]
    assert kinds[:2] == ["Patient", "CarePlan"]
    assert [(r["resourceType"], r["id"]) for r in records(delta)] == [("Observation", new["id"])]


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_pages_follow_next_links_stand_on_their_own_and_together_hold_the_record(
    client: TestClient, user: Account, clock: FakeClock, count: int
) -> None:
    record(client, user, clock)
    whole = [r["id"] for r in records(pull(client, user, "/v1/me/fhir"))]
    seen: list[str] = []
    url, params, pages = "/v1/me/fhir", {"_count": count}, 0
    while True:
        page = pull(client, user, url, **params)
        pages += 1
        # Each page validates and resolves its references by itself.
        Bundle.model_validate(page)
        assert_self_contained(page)
        assert resources(page)[0]["resourceType"] == "Patient"
        assert len(records(page)) <= count + 1  # an outcome's two resources stay together
        seen += [r["id"] for r in records(page)]
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not following:
            break
        url, params = following[0], {}
    assert pages >= len(whole) / (count + 1)
    assert seen == whole


def records(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The person's records in a page: what every page does not carry anyway."""
    carried = {"Patient", "CarePlan", "ServiceRequest", "Questionnaire"}
    return [r for r in resources(bundle) if r["resourceType"] not in carried]


def test_a_linked_clinician_gets_the_record_and_anyone_else_gets_404_or_403(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    patient, clinician, other = make_account(), make_account("clinician"), make_account("clinician")
    link(client, patient, clinician)
    record(client, patient, clock)
    own = pull(client, patient, "/v1/me/fhir")
    theirs = pull(client, clinician, f"/v1/patients/{patient.id}/fhir")
    assert resources(theirs) == resources(own)
    unlinked = client.get(f"/v1/patients/{patient.id}/fhir", headers=other.headers)
    assert unlinked.status_code == 404
    assert unlinked.headers["content-type"] == "application/problem+json"
    # A person is no clinician; and nobody reads a record without a token.
    assert client.get(f"/v1/patients/{patient.id}/fhir", headers=patient.headers).status_code == 403
    assert client.get("/v1/me/fhir").status_code == 401


def cursor(raw: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": cursor(["nope"])}, "cursor"),  # a part that does not exist
        ({"cursor": cursor(["checkins", "2026-01-01T00:00:00+00:00", 5])}, "cursor"),
        ({"cursor": cursor(["checkins", "2026-01-01T00:00:00+00:00", "not-a-uuid"])}, "cursor"),
        (
            {"cursor": cursor(["checkins", "0001-01-01T00:00:00+05:00", str(uuid.uuid4())])},
            "cursor",
        ),
        (
            {"cursor": cursor(["checkins", "9999-12-31T23:59:59-01:00", str(uuid.uuid4())])},
            "cursor",
        ),
        ({"cursor": cursor({"part": "checkins"})}, "cursor"),
        ({"_count": 0}, "_count"),
        ({"_count": 1001}, "_count"),
        ({"_since": "yesterday"}, "_since"),
    ],
)
def test_bad_paging_is_a_problem_naming_the_parameter(
    client: TestClient, user: Account, params: dict[str, Any], field: str
) -> None:
    response = client.get("/v1/me/fhir", headers=user.headers, params=params)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


# What each resource may carry, top level: a new element is a reviewed change here, as a
# new response key is in tests/api/response_keys.json.
ELEMENTS = {
    "Patient": {"resourceType", "id", "meta", "active", "telecom", "name", "birthDate"},
    "CarePlan": {
        *("resourceType", "id", "meta", "status", "intent", "category", "title"),
        *("subject", "period", "activity"),
    },
    "ServiceRequest": {
        *("resourceType", "id", "meta", "basedOn", "status", "intent", "code"),
        *("orderDetail", "quantityQuantity", "subject", "authoredOn", "note"),
    },
    "Observation": {
        *("resourceType", "id", "meta", "status", "category", "code", "subject"),
        *("effectiveDateTime", "issued", "valueInteger", "valueQuantity", "component"),
        *("note", "interpretation", "derivedFrom"),
    },
    "QuestionnaireResponse": {
        *("resourceType", "id", "meta", "questionnaire", "status", "subject", "authored"),
        "item",
    },
    "Procedure": {
        *("resourceType", "id", "meta", "status", "code", "subject", "performedPeriod"),
        *("basedOn", "note"),
    },
    "Questionnaire": {"resourceType", "id", "url", "title", "status", "copyright", "item", "code"},
}


def test_each_resource_carries_only_its_reviewed_elements_and_no_secret(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    record(client, user, clock)
    response = client.get("/v1/me/fhir", headers=user.headers)
    for resource in resources(response.json()):
        assert set(resource) <= ELEMENTS[resource["resourceType"]], resource["resourceType"]
    assert "$argon2" not in response.text and user.refresh_token not in response.text
    assert user.access_token not in response.text


def test_a_cursor_out_of_the_calendar_is_a_problem_on_every_list(
    client: TestClient, user: Account
) -> None:
    # The lists' shared keyset cursor (api/pagination.py) refuses it too.
    far = cursor(["0001-01-01T00:00:00+05:00", str(uuid.uuid4())])
    response = client.get("/v1/checkins", headers=user.headers, params={"cursor": far})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]


def test_a_page_past_the_end_has_no_entries_and_still_its_leading_resources(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    record(client, user, clock)
    # A cursor past every session (as after the last page): nothing new, the Patient still.
    late = cursor(["sessions", "2199-01-01T00:00:00+00:00", str(uuid.uuid4())])
    page = pull(client, user, "/v1/me/fhir", cursor=late)
    assert records(page) == [] and resources(page)[0]["resourceType"] == "Patient"
    Bundle.model_validate(page)


def test_answers_to_an_instrument_no_longer_served_still_export_whole(
    client: TestClient, user: Account, clock: FakeClock, db: Engine
) -> None:
    # As if its file had been removed since: stored rows name an instrument not loaded.
    with Session(db) as s:
        for answers in ({"a": 1, "b": 2}, {"b": 3, "c": 4}):
            s.add(
                OutcomeRow(
                    user_id=uuid.UUID(user.id), instrument="retired-scale",
                    recorded_at=clock(), received_at=clock(), answers=answers, score=3,
                    body_hash="x",
                )
            )  # fmt: skip
        s.commit()
    page = pull(client, user, "/v1/me/fhir")
    Bundle.model_validate(page)
    assert_self_contained(page)
    (form,) = resources(page, "Questionnaire")
    assert [i["linkId"] for i in form["item"]] == ["a", "b", "c"]
    for response in resources(page, "QuestionnaireResponse"):
        assert response["questionnaire"] == form["url"]
