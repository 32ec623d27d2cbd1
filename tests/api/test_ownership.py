"""Object-level authorization, walked from the route table.

Every route whose path names a user-owned object is attacked here: the owner creates
the object through the API, then other callers (a stranger, the owner's own clinician,
an admin; for clinician routes, a clinician not linked to the patient) call the route
with a valid body. Each must get the same 404 problem as for an id that does not
exist, and the owner's view of their data must be exactly what it was.

A route with a path parameter that is neither attacked here nor exempted below fails
`test_every_route_with_an_id_is_attacked_or_exempt`, so a new route cannot skip this.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.test_route_auth import operations
from tests.conftest import Account, AccountFactory, FakeClock

pytestmark = pytest.mark.usefixtures("seeded")

Route = tuple[str, str]

# Routes with a path parameter that names nothing a user owns.
EXEMPT: dict[Route, str] = {
    ("GET", "/problems/{slug}"): "documentation of error types, public",
    # The catalog is shared reference data: public reads, admin-only writes (the roles are
    # checked by test_route_auth.py), and a slug is not anyone's object.
    ("GET", "/v1/exercises/{slug}"): "catalog",
    ("PUT", "/v1/exercises/{slug}"): "catalog",
    ("PATCH", "/v1/exercises/{slug}"): "catalog",
    ("DELETE", "/v1/exercises/{slug}"): "catalog",
    ("GET", "/v1/exercises/{slug}/revisions"): "catalog",
    # Shared reference data as the catalog is: a platform's type name is nobody's object.
    ("PUT", "/v1/health-connect/segment-types/{segment_type}"): "segment-type mapping",
}


@dataclass
class World:
    """The owner, the people around them, and the actions they take, all over HTTP."""

    client: TestClient
    clock: FakeClock
    owner: Account
    clinician: Account  # linked to the owner
    stranger: Account
    admin: Account
    other_clinician: Account  # linked to the stranger, not to the owner
    make_account: AccountFactory

    @property
    def people(self) -> list[Account]:
        """Everyone but the owner who may call a user route."""
        return [self.stranger, self.clinician, self.admin, self.other_clinician]

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    def get(self, who: Account, url: str) -> Any:
        return self.ok(self.client.get(url, headers=who.headers))

    def link(self, patient: Account, clinician: Account) -> dict[str, Any]:
        code = self.ok(
            self.client.post("/v1/clinician/invitations", headers=clinician.headers), 201
        )["code"]
        return dict(
            self.ok(
                self.client.post("/v1/me/clinicians", headers=patient.headers, json={"code": code}),
                201,
            )
        )

    def checkin(self, who: Account, **fields: Any) -> dict[str, Any]:
        body = {"recorded_at": self.clock.now.isoformat(), "phase": "daily", "pain": 2, **fields}
        return dict(self.ok(self.client.post("/v1/checkins", headers=who.headers, json=body), 201))

    def build(self, who: Account, **fields: Any) -> dict[str, Any]:
        body = {"minutes": 30, "equipment": ["mat"], **fields}
        return dict(self.ok(self.client.post("/v1/sessions", headers=who.headers, json=body), 201))

    def log_body(self, session: dict[str, Any], pain: int = 1) -> dict[str, Any]:
        entries = [
            {
                "exercise_slug": item["exercise_slug"],
                "sets_completed": item["sets"],
                "reps": [item["reps"] or 1] * item["sets"],
                "rpe": 4,
                "pain_during": pain,
            }
            for item in session["items"]
            if item["block"] != "warmup"
        ]
        return {
            "started_at": (self.clock.now - timedelta(minutes=20)).isoformat(),
            "ended_at": self.clock.now.isoformat(),
            "entries": entries,
            "pain_after": pain,
        }

    def device(self, who: Account) -> tuple[dict[str, Any], dict[str, str]]:
        created = self.ok(
            self.client.post("/v1/me/devices", headers=who.headers, json={"name": "Watch"}), 201
        )
        return created, {"Authorization": f"Bearer {created['token']}"}

    def upload(self, device: dict[str, str], **fields: Any) -> Any:
        start = self.clock.now - timedelta(minutes=30)
        body = {
            "device_session_id": f"rec-{uuid.uuid4()}",
            "started_at": start.isoformat(),
            "ended_at": (start + timedelta(minutes=20)).isoformat(),
            "heart_rate": [{"t": (start + timedelta(seconds=5)).isoformat(), "bpm": 90}],
            **fields,
        }
        return self.client.post(
            "/v1/wearable/uploads",
            headers={**device, "Idempotency-Key": str(uuid.uuid4())},
            json=body,
        )

    def export(self, who: Account) -> dict[str, Any]:
        """Everything stored about someone, less the moment it was read."""
        body = dict(self.get(who, "/v1/me/export"))
        body.pop("exported_at")
        return body


def new_world(client: TestClient, clock: FakeClock, make_account: AccountFactory) -> World:
    """The cast of an authorization test: an owner, their clinician, a stranger, an admin
    and a clinician of someone else."""
    return World(
        client=client,
        clock=clock,
        owner=make_account(),
        clinician=make_account("clinician"),
        stranger=make_account(),
        admin=make_account("admin"),
        other_clinician=make_account("clinician"),
        make_account=make_account,
    )


@pytest.fixture
def world(client: TestClient, clock: FakeClock, make_account: AccountFactory) -> World:
    w = new_world(client, clock, make_account)
    w.link(w.owner, w.clinician)
    # The other clinician has a patient of their own: a real practice, not an empty one.
    w.link(w.stranger, w.other_clinician)
    return w


@dataclass
class Attack:
    caller: Account
    method: str
    url: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Scene:
    attacks: list[Attack]
    # What the owner (or their clinician) sees; it must not change.
    view: Callable[[], Any]
    # Checked after the attacks: the object still does its job.
    still_works: Callable[[], None] = lambda: None


MATRIX: dict[Route, Callable[[World], Scene]] = {}


def attacks(
    method: str, path: str
) -> Callable[[Callable[[World], Scene]], Callable[[World], Scene]]:
    def register(setup: Callable[[World], Scene]) -> Callable[[World], Scene]:
        MATRIX[(method, path)] = setup
        return setup

    return register


def everyone(w: World, method: str, url: str, body: Any = None, **headers: str) -> list[Attack]:
    return [Attack(who, method, url, body, headers) for who in w.people]


@attacks("DELETE", "/v1/me/devices/{device_id}")
def _device(w: World) -> Scene:
    device, token = w.device(w.owner)

    def works() -> None:
        assert w.upload(token).status_code == 201, "the device token stopped working"

    return Scene(
        everyone(w, "DELETE", f"/v1/me/devices/{device['id']}"),
        view=lambda: (w.get(w.owner, "/v1/me/devices"), w.export(w.owner)),
        still_works=works,
    )


@attacks("GET", "/v1/checkins/{checkin_id}")
def _checkin(w: World) -> Scene:
    checkin = w.checkin(w.owner, pain=4, note="private note")["checkin"]
    return Scene(
        everyone(w, "GET", f"/v1/checkins/{checkin['id']}"),
        view=lambda: (w.get(w.owner, f"/v1/checkins/{checkin['id']}"), w.export(w.owner)),
    )


@attacks("GET", "/v1/outcomes/{outcome_id}")
def _outcome(w: World) -> Scene:
    body = {
        "recorded_at": w.clock.now.isoformat(),
        "instrument": "psfs",
        "answers": {"activities": [{"activity": a, "score": 3} for a in ("sit", "lift", "run")]},
    }
    made = w.ok(w.client.post("/v1/outcomes", headers=w.owner.headers, json=body), 201)
    outcome = made["outcome"]
    return Scene(
        everyone(w, "GET", f"/v1/outcomes/{outcome['id']}"),
        view=lambda: (w.get(w.owner, f"/v1/outcomes/{outcome['id']}"), w.export(w.owner)),
    )


@attacks("GET", "/v1/sessions/{session_id}")
def _session(w: World) -> Scene:
    session = w.build(w.owner)
    return Scene(
        everyone(w, "GET", f"/v1/sessions/{session['id']}"),
        view=lambda: (w.get(w.owner, f"/v1/sessions/{session['id']}"), w.export(w.owner)),
    )


@attacks("PUT", "/v1/sessions/{session_id}/log")
def _log(w: World) -> Scene:
    logged, planned = w.build(w.owner), w.build(w.owner)
    w.ok(
        w.client.put(
            f"/v1/sessions/{logged['id']}/log", headers=w.owner.headers, json=w.log_body(logged)
        )
    )
    # A correction (If-Match the stored version) and a first log: both would be accepted
    # from the owner, so only ownership stops them.
    hostile = [
        *everyone(
            w,
            "PUT",
            f"/v1/sessions/{logged['id']}/log",
            w.log_body(logged, 9),
            **{"If-Match": '"log-1"'},
        ),
        *everyone(w, "PUT", f"/v1/sessions/{planned['id']}/log", w.log_body(planned, 9)),
    ]

    def view() -> Any:
        return (
            w.get(w.owner, f"/v1/sessions/{logged['id']}"),
            w.get(w.owner, f"/v1/sessions/{planned['id']}"),
            w.get(w.owner, "/v1/routine")["items"],
            w.export(w.owner),
        )

    def works() -> None:
        corrected = w.client.put(
            f"/v1/sessions/{logged['id']}/log",
            headers={**w.owner.headers, "If-Match": '"log-1"'},
            json=w.log_body(logged, 2),
        )
        assert corrected.status_code == 200, corrected.text
        assert corrected.json()["log"]["version"] == 2

    return Scene(hostile, view=view, still_works=works)


@attacks("DELETE", "/v1/me/clinicians/{link_id}")
def _link(w: World) -> Scene:
    link = w.get(w.owner, "/v1/me/clinicians")["items"][0]

    def works() -> None:
        w.get(w.clinician, f"/v1/patients/{w.owner.id}/summary")

    return Scene(
        everyone(w, "DELETE", f"/v1/me/clinicians/{link['id']}"),
        view=lambda: (
            w.get(w.owner, "/v1/me/clinicians"),
            w.get(w.clinician, "/v1/patients"),
            w.export(w.owner),
        ),
        still_works=works,
    )


@attacks("POST", "/v1/alerts/{alert_id}/ack")
def _alert(w: World) -> Scene:
    # A second clinician linked to the same patient gets an alert of their own; neither
    # may acknowledge the other's.
    colleague = w.make_account("clinician")
    w.link(w.owner, colleague)
    w.checkin(w.owner, red_flags={"saddle_numbness": True})
    alert = w.get(w.clinician, "/v1/alerts")["items"][0]
    assert alert["patient_id"] == w.owner.id and alert["acknowledged_at"] is None
    assert w.get(colleague, "/v1/alerts")["items"][0]["id"] != alert["id"]

    def works() -> None:
        acked = w.ok(w.client.post(f"/v1/alerts/{alert['id']}/ack", headers=w.clinician.headers))
        assert acked["acknowledged_at"] is not None

    return Scene(
        [
            Attack(c, "POST", f"/v1/alerts/{alert['id']}/ack")
            for c in (colleague, w.other_clinician)
        ],
        view=lambda: (
            w.get(w.clinician, "/v1/alerts"),
            w.get(colleague, "/v1/alerts"),
            w.export(w.clinician)["as_clinician"],
        ),
        still_works=works,
    )


def _patient_scene(w: World, method: str, url: str, body: Any = None) -> Scene:
    # Red flags make resolving them (or changing the plan) visible in the advice.
    w.checkin(w.owner, red_flags={"both_legs": True})
    return Scene(
        [Attack(w.other_clinician, method, url, body)],
        view=lambda: (
            w.get(w.owner, "/v1/advice")["status"],
            w.get(w.clinician, "/v1/patients"),
            w.export(w.owner),
            w.export(w.clinician)["as_clinician"],
        ),
        still_works=lambda: w.get(w.clinician, f"/v1/patients/{w.owner.id}/summary"),
    )


@attacks("GET", "/v1/patients/{patient_id}/summary")
def _summary(w: World) -> Scene:
    return _patient_scene(w, "GET", f"/v1/patients/{w.owner.id}/summary")


@attacks("GET", "/v1/patients/{patient_id}/fhir")
def _fhir(w: World) -> Scene:
    return _patient_scene(w, "GET", f"/v1/patients/{w.owner.id}/fhir")


@attacks("PUT", "/v1/patients/{patient_id}/routine")
def _plan(w: World) -> Scene:
    body = {"cleared": ["knee-hug"], "caps": {"knee-hug": {"sets": 1}}}
    return _patient_scene(w, "PUT", f"/v1/patients/{w.owner.id}/routine", body)


@attacks("PUT", "/v1/patients/{patient_id}/thresholds")
def _thresholds(w: World) -> Scene:
    body = {"during_pain_max": 3, "during_pain_safe_max": 1}
    return _patient_scene(w, "PUT", f"/v1/patients/{w.owner.id}/thresholds", body)


@attacks("POST", "/v1/patients/{patient_id}/red-flags/resolve")
def _resolve(w: World) -> Scene:
    return _patient_scene(w, "POST", f"/v1/patients/{w.owner.id}/red-flags/resolve")


def _with_path_ids(app: FastAPI) -> set[Route]:
    return {(m, p) for m, p, _caller in operations(app) if "{" in p}


def test_every_route_with_an_id_is_attacked_or_exempt(app: FastAPI) -> None:
    routes = _with_path_ids(app)
    missing = routes - set(MATRIX) - set(EXEMPT)
    assert not missing, f"add these to MATRIX (user-owned) or EXEMPT (say why): {sorted(missing)}"
    stale = (set(MATRIX) | set(EXEMPT)) - routes
    assert not stale, f"no longer in the route table: {sorted(stale)}"
    assert not set(MATRIX) & set(EXEMPT)


def _problem(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    body = dict(response.json())
    body.pop("instance", None)  # names the request, so it differs every time
    return body


def _elsewhere(url: str) -> str:
    """The same URL with every UUID in it replaced by one nobody has."""
    parts = url.split("/")
    for i, part in enumerate(parts):
        try:
            uuid.UUID(part)
        except ValueError:
            continue
        parts[i] = str(uuid.uuid4())
    return "/".join(parts)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_only_the_owner_reaches_the_object(route: Route, world: World) -> None:
    scene = MATRIX[route](world)
    assert scene.attacks
    before = json.dumps(scene.view(), sort_keys=True)
    for attack in scene.attacks:
        assert attack.method == route[0]
        send = {"headers": {**attack.caller.headers, **attack.headers}, "json": attack.body}
        response = world.client.request(attack.method, attack.url, **send)
        assert response.status_code == 404, (attack.caller.email, attack.url, response.text)
        # Indistinguishable from an id that exists nowhere: nothing tells the caller the
        # object is real.
        missing = world.client.request(attack.method, _elsewhere(attack.url), **send)
        assert _problem(response) == _problem(missing), attack.caller.email
    assert json.dumps(scene.view(), sort_keys=True) == before, "another caller changed it"
    scene.still_works()


def test_a_reused_session_id_never_returns_or_changes_the_owners_session(world: World) -> None:
    w = world
    session = w.build(w.owner, minutes=20)
    before = json.dumps((w.get(w.owner, f"/v1/sessions/{session['id']}"), w.export(w.owner)))
    for who in w.people:
        for body in (
            {"id": session["id"]},
            {"id": session["id"], "minutes": 20, "equipment": ["mat"]},
        ):
            response = w.client.post("/v1/sessions", headers=who.headers, json=body)
            assert response.status_code == 409, response.text
            problem = _problem(response)
            assert problem["type"] == "/problems/client-id-reused"
            assert "items" not in problem and session["items"][0]["name"] not in response.text
        assert w.get(who, "/v1/sessions")["items"] == []
        assert w.client.get(f"/v1/sessions/{session['id']}", headers=who.headers).status_code == 404
    after = json.dumps((w.get(w.owner, f"/v1/sessions/{session['id']}"), w.export(w.owner)))
    assert after == before


def test_a_reused_checkin_id_never_returns_or_changes_the_owners_checkin(world: World) -> None:
    w = world
    ident = str(uuid.uuid4())
    body = {"id": ident, "recorded_at": w.clock.now.isoformat(), "phase": "daily", "pain": 6,
            "note": "owner's words"}  # fmt: skip
    w.ok(w.client.post("/v1/checkins", headers=w.owner.headers, json=body), 201)
    before = json.dumps((w.get(w.owner, f"/v1/checkins/{ident}"), w.export(w.owner)))
    # The very same body (as a replayed offline upload would be), and a different one.
    for who in w.people:
        for attempt in (body, {**body, "pain": 0, "note": "overwritten"}):
            response = w.client.post("/v1/checkins", headers=who.headers, json=attempt)
            assert response.status_code == 409, response.text
            assert _problem(response)["type"] == "/problems/client-id-reused"
            assert "owner's words" not in response.text
        assert w.get(who, "/v1/checkins")["items"] == []
        assert w.client.get(f"/v1/checkins/{ident}", headers=who.headers).status_code == 404
    after = json.dumps((w.get(w.owner, f"/v1/checkins/{ident}"), w.export(w.owner)))
    assert after == before


def test_another_persons_session_id_in_a_body_changes_nothing_of_theirs(world: World) -> None:
    w = world
    session = w.build(w.owner)

    def owners_view() -> str:
        stored = w.get(w.owner, f"/v1/sessions/{session['id']}")
        return json.dumps((stored, w.get(w.owner, "/v1/advice")["status"], w.export(w.owner)))

    before = owners_view()
    _, device = w.device(w.stranger)
    refused = w.upload(device, session_id=session["id"])
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["session_id"]
    # A check-in naming it is refused the same way (a check-in may still name a session
    # the server has not seen yet: tests/api/test_pain.py).
    refused = w.client.post(
        "/v1/checkins",
        headers=w.stranger.headers,
        json={
            "recorded_at": w.clock.now.isoformat(),
            "phase": "before",
            "pain": 9,
            "session_id": session["id"],
        },
    )
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["session_id"]
    assert owners_view() == before
