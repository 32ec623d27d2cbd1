"""The record as FHIR R4 through the API (issue 19): every resource validated against the
R4B models of `fhir.resources`, counts against what was stored, pages, `_since`, access."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from tests.api.test_clinicians import link
from tests.api.test_outcomes import HIGH_RISK, odi, post
from tests.conftest import Account, AccountFactory, FakeClock

pytestmark = pytest.mark.usefixtures("seeded")


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
    assert {a["reference"]["reference"] for a in plan["activity"]} == {
        f"urn:uuid:{r['id']}" for r in requests if r["status"] == "active"
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

    # Each outcome: its questionnaire and a score Observation derived from it.
    answered = {q["questionnaire"]: q for q in resources(bundle, "QuestionnaireResponse")}
    assert set(answered) == {
        "http://loinc.org/q/91349-1",
        "http://loinc.org/q/97908-8",
        "https://backstrong.app/fhir/Questionnaire/psfs",
        "https://backstrong.app/fhir/Questionnaire/nrs-weekly",
    }
    activities = answered["https://backstrong.app/fhir/Questionnaire/psfs"]["item"][0]["item"]
    assert [(a["text"], a["answer"][0]["valueInteger"]) for a in activities] == [
        ("Gardening", 4), ("Running", 2), ("Lifting my child", 5),
    ]  # fmt: skip
    scores = {
        o["derivedFrom"][0]["reference"]: o
        for o in resources(bundle, "Observation")
        if "derivedFrom" in o
    }
    odi_response = answered["http://loinc.org/q/97908-8"]
    odi_score = scores[f"urn:uuid:{odi_response['id']}"]
    assert ("http://loinc.org", "97909-6") in codes(odi_score)
    assert odi_score["valueQuantity"]["value"] == 44.0
    assert odi_score["interpretation"][0]["coding"][0]["code"] == "severe"
    startback = scores[f"urn:uuid:{answered['http://loinc.org/q/91349-1']['id']}"]
    assert startback["interpretation"][0]["coding"][0]["code"] == "high"

    # The routine: exercise therapy, one request per exercise, the dose as quantity and note.
    for request in resources(bundle, "ServiceRequest"):
        assert ("http://snomed.info/sct", "229065009") in codes(request)
        assert request["quantityQuantity"]["value"] >= 1 and request["note"][0]["text"]
    (procedure,) = resources(bundle, "Procedure")
    assert procedure["id"] == made["session"]["id"]
    assert "2 sets (8, 6 reps)" in procedure["note"][0]["text"]

    # Every reference resolves within the Bundle; every full URL is the resource's id.
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    assert all(e["fullUrl"] == f"urn:uuid:{e['resource']['id']}" for e in bundle["entry"])
    assert len(full_urls) == len(bundle["entry"])
    found = (v["reference"] for v in _values(bundle["entry"], "reference"))
    refs = {r for r in found if isinstance(r, str)}
    assert refs and refs <= full_urls


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
    # The Patient and the routine lead every first page; then only what changed.
    leading = {"Patient", "CarePlan", "ServiceRequest"}
    kinds = [r["resourceType"] for r in resources(delta)]
    assert kinds[:2] == ["Patient", "CarePlan"] and set(kinds[:-1]) == leading
    assert (kinds[-1], resources(delta)[-1]["id"]) == ("Observation", new["id"])


def test_pages_follow_next_links_and_together_hold_the_whole_record(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    record(client, user, clock)
    whole = [r["id"] for r in resources(pull(client, user, "/v1/me/fhir"))]
    seen: list[str] = []
    url, params, pages = "/v1/me/fhir", {"_count": 3}, 0
    while True:
        page = pull(client, user, url, **params)
        pages += 1
        rest = [r for r in resources(page) if r["resourceType"] not in ("Patient", "CarePlan")]
        rest = [r for r in rest if r["resourceType"] != "ServiceRequest"]
        assert len(rest) <= 4  # an outcome's two resources stay together
        seen += [r["id"] for r in resources(page)]
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not following:
            break
        url, params = following[0], {}
    assert pages > 3
    assert seen == whole


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


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WyJub3BlIl0"}, "cursor"),  # ["nope"]: a part that does not exist
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
