"""Request bodies: no unknown field is taken, and every batch is bounded.

The schema walks read the OpenAPI document the app serves, so a body added later is
held to the same rules; the HTTP tests send one unknown field to every body the app
takes and check it is refused by name and that nothing was stored.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.schemas.clinicians import MAX_PLAN_EXERCISES
from api.schemas.exercise_in import EXERCISE_EXAMPLE
from tests.conftest import (
    ALL_CLEAR_SCREEN,
    NO_RISK_FACTORS,
    Account,
    AccountFactory,
    FakeClock,
    sign_in,
)

pytestmark = pytest.mark.usefixtures("seeded")

Route = tuple[str, str]

# OAuth2's password grant is a form whose fields RFC 6749 fixes (FastAPI's form model
# also takes client_id, scope...); it is not a JSON body and takes no JSON object.
FORM_BODIES: set[Route] = {("POST", "/v1/auth/token")}
SURPRISE = "surprise"


# --- the OpenAPI document -----------------------------------------------------------------


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = doc["components"]["schemas"][name]
    return schema


def schema_nodes(
    doc: dict[str, Any], schema: dict[str, Any], where: str, seen: frozenset[str] = frozenset()
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema inside `schema`, $refs followed, with a dotted path to it."""
    ref = schema.get("$ref")
    if ref in seen:
        return
    seen = seen | {ref} if ref else seen
    schema = _resolve(doc, schema)
    yield where, schema
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from schema_nodes(doc, option, where, seen)
    for name, sub in schema.get("properties", {}).items():
        yield from schema_nodes(doc, sub, f"{where}.{name}", seen)
    for sub in schema.get("patternProperties", {}).values():
        yield from schema_nodes(doc, sub, f"{where}{{}}", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from schema_nodes(doc, schema["additionalProperties"], f"{where}{{}}", seen)
    if "items" in schema:
        yield from schema_nodes(doc, schema["items"], f"{where}[]", seen)
    for sub in schema.get("prefixItems", []):
        yield from schema_nodes(doc, sub, f"{where}[]", seen)


def request_bodies(app: FastAPI) -> Iterator[tuple[Route, str, dict[str, Any]]]:
    doc = app.openapi()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                yield (method.upper(), path), media, content["schema"]


def body_nodes(app: FastAPI) -> Iterator[tuple[str, dict[str, Any]]]:
    doc = app.openapi()
    for route, _media, schema in request_bodies(app):
        if route not in FORM_BODIES:
            yield from schema_nodes(doc, schema, f"{route[0]} {route[1]}")


def _is_object(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "object" or "properties" in schema


def test_the_form_exemption_is_only_the_oauth2_form(app: FastAPI) -> None:
    forms = {r for r, media, _ in request_bodies(app) if media != "application/json"}
    assert forms == FORM_BODIES
    for route, media, _schema in request_bodies(app):
        if route in FORM_BODIES:
            assert media == "application/x-www-form-urlencoded"


def test_no_request_body_schema_takes_unknown_properties(app: FastAPI) -> None:
    objects = [(where, s) for where, s in body_nodes(app) if _is_object(s)]
    # Every JSON body is an object, and most hold others: an empty walk would be a bug.
    assert len(objects) > 20
    open_ = [where for where, s in objects if s.get("additionalProperties") is not False]
    assert not open_, f"object schemas in request bodies that take unknown keys: {open_}"


def test_every_batch_in_a_request_body_is_bounded(app: FastAPI) -> None:
    nodes = list(body_nodes(app))
    arrays = [where for where, s in nodes if s.get("type") == "array"]
    assert len(arrays) > 10
    unbounded = [where for where, s in nodes if s.get("type") == "array" and "maxItems" not in s]
    assert not unbounded, f"arrays without maxItems: {unbounded}"
    # Maps (keys are slugs) are batches too.
    maps = [(w, s) for w, s in nodes if "patternProperties" in s]
    assert maps
    assert not [w for w, s in maps if "maxProperties" not in s], "maps without maxProperties"


# --- over HTTP -----------------------------------------------------------------------------


@dataclass
class Probe:
    """A request whose body is valid but for one unknown field at `field`."""

    caller: dict[str, str]
    url: str
    body: Any
    field: str
    # Runs afterwards: the request stored nothing and spent nothing (codes, tokens, keys).
    nothing_stored: Callable[[], None]
    headers: dict[str, str] | None = None
    gzip: bool = False


@dataclass
class Setting:
    client: TestClient
    clock: FakeClock
    make_account: AccountFactory

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    def invite(self, clinician: Account) -> str:
        made = self.client.post("/v1/clinician/invitations", headers=clinician.headers)
        return str(self.ok(made, 201)["code"])

    def linked(self) -> tuple[Account, Account]:
        clinician, patient = self.make_account("clinician"), self.make_account()
        code = self.invite(clinician)
        self.ok(
            self.client.post("/v1/me/clinicians", headers=patient.headers, json={"code": code}),
            201,
        )
        return clinician, patient


PROBES: dict[Route, Callable[[Setting], Probe]] = {}


def probes(method: str, path: str) -> Callable[[Callable[[Setting], Probe]], Any]:
    def register(build: Callable[[Setting], Probe]) -> Callable[[Setting], Probe]:
        PROBES[(method, path)] = build
        return build

    return register


@probes("POST", "/v1/auth/register")
def _register(s: Setting) -> Probe:
    body = {"email": "new@example.com", "password": "pw-123456789", "role": "admin"}

    def nothing_stored() -> None:
        clean = {k: v for k, v in body.items() if k != "role"}
        s.ok(s.client.post("/v1/auth/register", json=clean), 202)
        token = sign_in(s.client, clean["email"], clean["password"]).json()["access_token"]
        me = s.ok(s.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}))
        assert me["role"] == "user"

    return Probe({}, "/v1/auth/register", body, "role", nothing_stored)


def _token_probe(s: Setting, url: str) -> Probe:
    user = s.make_account()

    def nothing_stored() -> None:
        # The token was neither rotated nor revoked.
        s.ok(s.client.post("/v1/auth/refresh", json={"refresh_token": user.refresh_token}))

    body = {"refresh_token": user.refresh_token, SURPRISE: True}
    return Probe({}, url, body, SURPRISE, nothing_stored)


probes("POST", "/v1/auth/refresh")(lambda s: _token_probe(s, "/v1/auth/refresh"))
probes("POST", "/v1/auth/logout")(lambda s: _token_probe(s, "/v1/auth/logout"))


@probes("PATCH", "/v1/me")
def _profile(s: Setting) -> Probe:
    user = s.make_account()
    before = s.ok(s.client.get("/v1/me", headers=user.headers))

    def nothing_stored() -> None:
        assert s.ok(s.client.get("/v1/me", headers=user.headers)) == before

    body = {"display_name": "Someone else", "user_id": str(uuid.uuid4())}
    return Probe(user.headers, "/v1/me", body, "user_id", nothing_stored)


@probes("DELETE", "/v1/me")
def _erase(s: Setting) -> Probe:
    user = s.make_account()

    def nothing_stored() -> None:
        s.ok(s.client.get("/v1/me", headers=user.headers))
        assert sign_in(s.client, user.email, user.password).status_code == 200

    body = {"password": user.password, "everything": True}
    return Probe(user.headers, "/v1/me", body, "everything", nothing_stored)


@probes("POST", "/v1/me/devices")
def _device(s: Setting) -> Probe:
    user, other = s.make_account(), s.make_account()

    def nothing_stored() -> None:
        for who in (user, other):
            assert s.ok(s.client.get("/v1/me/devices", headers=who.headers))["items"] == []

    body = {"name": "Watch", "user_id": other.id}
    return Probe(user.headers, "/v1/me/devices", body, "user_id", nothing_stored)


@probes("PUT", "/v1/me/screening")
def _screening(s: Setting) -> Probe:
    user = s.make_account(screened=False)

    def nothing_stored() -> None:
        state = s.ok(s.client.get("/v1/me/screening", headers=user.headers))
        assert state["screening"] is None

    answers = {k: v for k, v in ALL_CLEAR_SCREEN.items() if k != "pregnancy_weeks"}
    body = {**answers, "risk_factors": {**NO_RISK_FACTORS, "smoker": True}}
    return Probe(user.headers, "/v1/me/screening", body, "risk_factors.smoker", nothing_stored)


@probes("PUT", "/v1/health-connect/segment-types/{segment_type}")
def _segment_type(s: Setting) -> Probe:
    admin = s.make_account("admin")
    url = "/v1/health-connect/segment-types/EXERCISE_SEGMENT_TYPE_LEG_RAISE"

    def mapped() -> Any:
        listed = s.ok(s.client.get("/v1/health-connect/segment-types", headers=admin.headers))
        return {i["segment_type"]: i["exercise_slug"] for i in listed["items"]}

    before = mapped()

    def nothing_stored() -> None:
        assert mapped() == before

    body = {"exercise_slug": "superman", "platform": "healthkit"}
    return Probe(admin.headers, url, body, "platform", nothing_stored)


@probes("POST", "/v1/exercises")
def _new_exercise(s: Setting) -> Probe:
    admin = s.make_account("admin")

    def nothing_stored() -> None:
        assert s.client.get(f"/v1/exercises/{EXERCISE_EXAMPLE['slug']}").status_code == 404

    body = {**EXERCISE_EXAMPLE, "dose": {**EXERCISE_EXAMPLE["dose"], "weight_kg": 5}}
    return Probe(admin.headers, "/v1/exercises", body, "dose.weight_kg", nothing_stored)


def _exercise_probe(s: Setting, method: str) -> Probe:
    admin = s.make_account("admin")
    current = s.client.get("/v1/exercises/superman")
    etag = current.headers["ETag"]
    if method == "PUT":
        written = s.ok(s.client.get("/v1/exercises/superman/revisions", headers=admin.headers))
        body = {**written["items"][0]["after"], "version": 99}
        body.pop("archived", None)
        field = "version"
    else:
        body = {"summary": "Changed", "muscles": {"primary": ["core"], "tertiary": ["traps"]}}
        field = "muscles.tertiary"

    def nothing_stored() -> None:
        after = s.client.get("/v1/exercises/superman")
        assert after.headers["ETag"] == etag
        assert after.json() == current.json()

    return Probe(
        admin.headers, "/v1/exercises/superman", body, field, nothing_stored, {"If-Match": etag}
    )


probes("PUT", "/v1/exercises/{slug}")(lambda s: _exercise_probe(s, "PUT"))
probes("PATCH", "/v1/exercises/{slug}")(lambda s: _exercise_probe(s, "PATCH"))


@probes("POST", "/v1/checkins")
def _checkin(s: Setting) -> Probe:
    user = s.make_account()
    body = {
        "recorded_at": s.clock.now.isoformat(),
        "phase": "daily",
        "pain": 3,
        "red_flags": {"saddle_numbness": False, "numb_toes": True},
    }

    def nothing_stored() -> None:
        assert s.ok(s.client.get("/v1/checkins", headers=user.headers))["items"] == []

    return Probe(user.headers, "/v1/checkins", body, "red_flags.numb_toes", nothing_stored)


@probes("POST", "/v1/outcomes")
def _outcome(s: Setting) -> Probe:
    user = s.make_account()
    body = {
        "recorded_at": s.clock.now.isoformat(),
        "instrument": "nrs-weekly",
        "answers": {"pain": 3, "worst_pain": 7},
    }

    def nothing_stored() -> None:
        assert s.ok(s.client.get("/v1/outcomes", headers=user.headers))["items"] == []

    return Probe(user.headers, "/v1/outcomes", body, "answers.worst_pain", nothing_stored)


@probes("POST", "/v1/sessions")
def _session(s: Setting) -> Probe:
    user = s.make_account()

    def nothing_stored() -> None:
        assert s.ok(s.client.get("/v1/sessions", headers=user.headers))["items"] == []

    body = {"minutes": 20, "equipment": ["mat"], "intensity": "max"}
    return Probe(user.headers, "/v1/sessions", body, "intensity", nothing_stored)


@probes("PUT", "/v1/sessions/{session_id}/log")
def _log(s: Setting) -> Probe:
    user = s.make_account()
    session = s.ok(
        s.client.post("/v1/sessions", headers=user.headers, json={"equipment": ["mat"]}), 201
    )
    item = next(i for i in session["items"] if i["block"] != "warmup")
    entry = {
        "exercise_slug": item["exercise_slug"],
        "sets_completed": 1,
        "reps": [1],
        "heart_rate": 120,
    }
    body = {
        "started_at": (s.clock.now - timedelta(minutes=20)).isoformat(),
        "ended_at": s.clock.now.isoformat(),
        "entries": [entry],
    }
    url = f"/v1/sessions/{session['id']}/log"

    def nothing_stored() -> None:
        stored = s.ok(s.client.get(f"/v1/sessions/{session['id']}", headers=user.headers))
        assert (stored["status"], stored["log"]) == ("planned", None)

    return Probe(user.headers, url, body, "entries.0.heart_rate", nothing_stored)


@probes("POST", "/v1/me/clinicians")
def _link(s: Setting) -> Probe:
    clinician, patient = s.make_account("clinician"), s.make_account()
    code = s.invite(clinician)

    def nothing_stored() -> None:
        assert s.ok(s.client.get("/v1/me/clinicians", headers=patient.headers))["items"] == []
        # The single-use code was not spent.
        s.ok(
            s.client.post("/v1/me/clinicians", headers=patient.headers, json={"code": code}),
            201,
        )

    body = {"code": code, "clinician_id": clinician.id}
    return Probe(patient.headers, "/v1/me/clinicians", body, "clinician_id", nothing_stored)


def _patient_probe(s: Setting, what: str, body: dict[str, Any], field: str) -> Probe:
    clinician, patient = s.linked()

    def view() -> Any:
        summary = s.ok(
            s.client.get(f"/v1/patients/{patient.id}/summary", headers=clinician.headers)
        )
        return summary["plan"], summary["thresholds"]

    before = view()

    def nothing_stored() -> None:
        assert view() == before

    url = f"/v1/patients/{patient.id}/{what}"
    return Probe(clinician.headers, url, body, field, nothing_stored)


probes("PUT", "/v1/patients/{patient_id}/routine")(
    lambda s: _patient_probe(
        s, "routine", {"cleared": ["knee-hug"], "caps": {"knee-hug": {"sets": 1, "minutes": 2}}},
        "caps.knee-hug.minutes",
    )
)  # fmt: skip
probes("PUT", "/v1/patients/{patient_id}/thresholds")(
    lambda s: _patient_probe(
        s, "thresholds", {"during_pain_max": 4, "saddle_numbness": 0}, "saddle_numbness"
    )
)


@probes("POST", "/v1/wearable/uploads")
def _upload(s: Setting) -> Probe:
    user = s.make_account()
    made = s.client.post("/v1/me/devices", headers=user.headers, json={"name": "Band"})
    device = {"Authorization": f"Bearer {s.ok(made, 201)['token']}"}
    start = s.clock.now - timedelta(minutes=30)
    sample = {"t": (start + timedelta(seconds=1)).isoformat(), "bpm": 90}
    clean: dict[str, Any] = {
        "device_session_id": "rec-1",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=10)).isoformat(),
        "heart_rate": [sample],
    }
    body = {**clean, "heart_rate": [{**sample, "spo2": 97}]}
    key = {"Idempotency-Key": "upload-1"}

    def nothing_stored() -> None:
        assert s.ok(s.client.get("/v1/me/uploads", headers=user.headers))["items"] == []
        # The idempotency key was not taken by the refused body.
        stored = s.client.post("/v1/wearable/uploads", headers={**device, **key}, json=clean)
        assert stored.status_code == 201, stored.text

    # Sent gzipped, as watches do: the route reads that body itself.
    return Probe(
        device, "/v1/wearable/uploads", body, "heart_rate.0.spo2", nothing_stored, key, True
    )


@probes("POST", "/v1/wearable/imports/health-connect")
def _health_connect(s: Setting) -> Probe:
    user = s.make_account()
    made = s.client.post("/v1/me/devices", headers=user.headers, json={"name": "Pixel"})
    device = {"Authorization": f"Bearer {s.ok(made, 201)['token']}"}
    start = s.clock.now - timedelta(minutes=30)
    sample = {"time": (start + timedelta(seconds=1)).isoformat(), "beatsPerMinute": 90}
    clean: dict[str, Any] = {
        "exerciseSession": {
            "startTime": start.isoformat(),
            "endTime": (start + timedelta(minutes=10)).isoformat(),
            "exerciseType": "EXERCISE_TYPE_STRENGTH_TRAINING",
            "metadata": {"id": "hc-1"},
        },
        "heartRate": [
            {"startTime": start.isoformat(), "endTime": (start + timedelta(minutes=10)).isoformat(),
             "samples": [sample]}
        ],
    }  # fmt: skip
    body = {**clean, "heartRate": [{**clean["heartRate"][0], "samples": [{**sample, "spo2": 97}]}]}
    key = {"Idempotency-Key": "import-1"}
    url = "/v1/wearable/imports/health-connect"

    def nothing_stored() -> None:
        assert s.ok(s.client.get("/v1/me/uploads", headers=user.headers))["items"] == []
        # The idempotency key was not taken by the refused body.
        stored = s.client.post(url, headers={**device, **key}, json=clean)
        assert stored.status_code == 201, stored.text

    return Probe(device, url, body, "heartRate.0.samples.0.spo2", nothing_stored, key, True)


@probes("POST", "/v1/wearable/imports/healthkit")
def _healthkit(s: Setting) -> Probe:
    user = s.make_account()
    made = s.client.post("/v1/me/devices", headers=user.headers, json={"name": "Watch"})
    device = {"Authorization": f"Bearer {s.ok(made, 201)['token']}"}
    start = s.clock.now - timedelta(minutes=30)
    sample = {
        "startDate": (start + timedelta(seconds=5)).isoformat(),
        "quantity": {"unit": "count/min", "value": 90},
    }
    clean: dict[str, Any] = {
        "workout": {
            "uuid": "hk-1",
            "workoutActivityType": "traditionalStrengthTraining",
            "startDate": start.isoformat(),
            "endDate": (start + timedelta(minutes=10)).isoformat(),
        },
        "heartRate": [sample],
    }
    body = {**clean, "heartRate": [{**sample, "sourceRevision": "x"}]}
    key = {"Idempotency-Key": "import-hk-1"}
    url = "/v1/wearable/imports/healthkit"

    def nothing_stored() -> None:
        assert s.ok(s.client.get("/v1/me/uploads", headers=user.headers))["items"] == []
        stored = s.client.post(url, headers={**device, **key}, json=clean)
        assert stored.status_code == 201, stored.text

    return Probe(device, url, body, "heartRate.0.sourceRevision", nothing_stored, key, True)


def test_every_json_body_is_probed(app: FastAPI) -> None:
    bodies = {route for route, _media, _schema in request_bodies(app)} - FORM_BODIES
    assert bodies == set(PROBES), "add a probe for each new body (or drop a stale one)"


@pytest.mark.parametrize("route", sorted(PROBES), ids=lambda r: f"{r[0]} {r[1]}")
def test_an_unknown_field_is_refused_by_name_and_stores_nothing(
    route: Route, client: TestClient, clock: FakeClock, make_account: AccountFactory
) -> None:
    probe = PROBES[route](Setting(client, clock, make_account))
    raw = json.dumps(probe.body).encode()
    headers = {**probe.caller, **(probe.headers or {}), "Content-Type": "application/json"}
    if probe.gzip:
        raw = gzip.compress(raw)
        headers["Content-Encoding"] = "gzip"
    response = client.request(route[0], probe.url, headers=headers, content=raw)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/validation-error"
    assert [e["field"] for e in problem["errors"]] == [probe.field], problem
    assert probe.field in problem["detail"]
    probe.nothing_stored()


def test_a_plan_naming_too_many_exercises_is_refused(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    clinician, patient = Setting(client, clock, make_account).linked()
    url = f"/v1/patients/{patient.id}/routine"
    # The catalog is smaller than the bound, so unknown slugs would be refused anyway:
    # the message shows it is the bound that refused them, before any lookup.
    many = [f"exercise-{i}" for i in range(MAX_PLAN_EXERCISES + 1)]
    for body, field in (
        ({"cleared": many}, "cleared"),
        ({"caps": {slug: {"sets": 1} for slug in many}}, "caps"),
    ):
        response = client.put(url, headers=clinician.headers, json=body)
        assert response.status_code == 422, response.text
        errors = response.json()["errors"]
        assert [e["field"] for e in errors] == [field]
        assert f"at most {MAX_PLAN_EXERCISES}" in errors[0]["message"], errors
    fits = client.put(url, headers=clinician.headers, json={"cleared": ["knee-hug"] * 100})
    assert fits.status_code == 200, fits.text
