"""Schema fuzzing: Schemathesis drives every operation in the OpenAPI document.

Each operation gets valid and invalid requests (``schemathesis.toml`` sets the examples per
operation and lists any check that is switched off, with the reason), sent as the caller
the operation needs: a person, an admin, a clinician linked to that person, or a device.
Every built-in check must pass, so the document and the server agree on what is accepted,
what is refused and what comes back. Operations with a path id are sent the ids of real
objects the test world made (three cases in four; the rest keep generated ids, which name
nothing) and must answer 2xx at least once: the run's summary lists what each answered.
A stateful run then chains operations through the links Schemathesis infers from the
document (an id one answer gives, the next request takes), so that the checks about state
(use_after_free, ensure_resource_availability) can fire.

The run is derandomized so CI is repeatable; ``FUZZ_RANDOM=1`` explores new inputs.
"""

from __future__ import annotations

import json
import os
import re
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import CheckContext
from schemathesis.core import NotSet
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transport import Response
from schemathesis.generation.meta import TestPhase
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.main import create_app
from tests.api.test_route_auth import operations
from tests.conftest import Account, AccountFactory, FakeClock
from tests.conftest import test_settings as settings_for

# The document only: this app is never called, so it needs no database.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(settings_for("sqlite:///never-opened.db"))
)
if os.environ.get("TEST_DATABASE_URL", "").strip():
    # The coverage phase's fixed boundary cases (several hundred per operation) test the
    # validation layer, which is the same on any database: they run on the SQLite pass.
    # On PostgreSQL the 50 generated examples per operation, NUL bytes included, run.
    schema.config.phases.coverage.enabled = False


# Writes to an exercise, which take its current ETag as If-Match (PUT and PATCH must).
_PRECONDITIONED = {("PUT", "/v1/exercises/{slug}"), ("PATCH", "/v1/exercises/{slug}"),
                   ("DELETE", "/v1/exercises/{slug}")}  # fmt: skip


@dataclass
class World:
    app: FastAPI
    client: TestClient
    headers: dict[str, dict[str, str]]
    # Path parameter values naming objects that exist, by parameter name; /problems/{slug}
    # has its own (a problem type, not an exercise).
    ids: dict[str, str]
    problem: str
    # Statuses answered, by operation: each operation with a path id must have reached a
    # real object (2xx) at least once (issue 18, finding 10).
    # (Plain dicts: they travel in the test report to the run's summary, across xdist.)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    # Whether every operation with a path id that ran must have answered 2xx (one
    # operation per test: yes; a sequence of them: it reaches what its chains reach).
    each_must_reach: bool = True

    def for_caller(self, caller: str | None) -> dict[str, str]:
        return dict(self.headers.get(caller or "", {}))

    def aim(self, case: Case[Any]) -> None:
        """Point a case whose path parameters were generated valid at real objects, for
        every documented example and three generated cases in four (chosen by the rest of
        the case, so the run is repeatable); the fourth keeps its generated ids, which
        name nothing: the 404 path."""
        names = list(case.path_parameters or {})
        key = (case.operation.method.upper(), case.operation.path)
        headers_valid = case.meta is None or not case.meta.is_negative_at(ParameterLocation.HEADER)
        if not names or case.meta is None or case.meta.is_negative_at(ParameterLocation.PATH):
            return
        # (Not repr: a body that is not set shows a memory address, new every run.)
        shown = json.dumps(
            [
                case.path_parameters,
                case.query,
                None if isinstance(case.body, NotSet) else case.body,
            ],
            sort_keys=True,
            default=str,
        )
        # The documented examples are the requests known to be good: always aimed, so
        # each operation meets a real object whatever the generated cases happen to be.
        explicit = case.meta.phase.name == TestPhase.EXAMPLES
        if not explicit and zlib.crc32(shown.encode()) % 4 == 0:
            return
        real = {"slug": self.problem} if case.operation.path.startswith("/problems/") else self.ids
        case.path_parameters = {**(case.path_parameters or {}), **{n: real[n] for n in names}}
        body_valid = not case.meta.is_negative_at(ParameterLocation.BODY)
        if key[0] == "PUT" and body_valid and isinstance(case.body, dict) and "slug" in case.body:
            # Slugs never change: a valid body names the path's (an invalid one stays so).
            case.body["slug"] = real["slug"]
        if key in _PRECONDITIONED and headers_valid:
            current = self.client.get(f"/v1/exercises/{self.ids['slug']}?include_archived=true")
            if current.status_code == 200:
                case.headers["If-Match"] = current.headers["etag"]

    def saw(self, case: Case[Any], status: int) -> None:
        label = f"{case.operation.method.upper()} {case.operation.path}"
        seen = self.statuses.setdefault(label, {})
        seen[status] = seen.get(status, 0) + 1

    def unreached(self) -> list[str]:
        """Operations with a path id that never answered 2xx."""
        return [
            label
            for label, seen in self.statuses.items()
            if "{" in label and not any(200 <= status < 300 for status in seen)
        ]


@pytest.fixture
def world(
    app: FastAPI,
    client: TestClient,
    seeded: object,
    make_account: AccountFactory,
    clock: FakeClock,
    request: pytest.FixtureRequest,
) -> Iterator[World]:
    person: Account = make_account()
    admin, clinician = make_account("admin"), make_account("clinician")

    def ok(response: Any, status: int = 201) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    def link(patient: Account) -> str:
        code = ok(client.post("/v1/clinician/invitations", headers=clinician.headers))["code"]
        made = client.post("/v1/me/clinicians", headers=patient.headers, json={"code": code})
        return str(ok(made)["id"])

    link_id = link(person)
    device = ok(client.post("/v1/me/devices", headers=person.headers, json={"name": "Band"}))
    # Some history, so reads have something to page through.
    checkin = ok(
        client.post(
            "/v1/checkins",
            headers=person.headers,
            json={"recorded_at": clock.now.isoformat(), "phase": "daily", "pain": 2},
        )
    )
    session = ok(client.post("/v1/sessions", headers=person.headers, json={}))
    outcome = ok(
        client.post(
            "/v1/outcomes",
            headers=person.headers,
            json={
                "recorded_at": clock.now.isoformat(),
                "instrument": "nrs-weekly",
                "answers": {"pain": 4},
            },
        )
    )["outcome"]
    # Another patient's red flag: an alert for the clinician to acknowledge.
    other = make_account()
    link(other)
    ok(
        client.post(
            "/v1/checkins",
            headers=other.headers,
            json={
                "recorded_at": clock.now.isoformat(),
                "phase": "daily",
                "pain": 3,
                "red_flags": {"fever_or_unwell": True},
            },
        )
    )
    alerts = ok(client.get("/v1/alerts", headers=clinician.headers), 200)["items"]
    exercise = ok(client.get("/v1/exercises"), 200)["items"][0]
    world = World(
        app=app,
        client=client,
        headers={
            "user": person.headers,
            "admin": admin.headers,
            "clinician": clinician.headers,
            "device": {"Authorization": f"Bearer {device['token']}"},
            # The imports take either; the device token's way is the uploads' own.
            "device_or_user": person.headers,
        },
        ids={
            "slug": exercise["slug"],
            "device_id": device["id"],
            "checkin_id": checkin["checkin"]["id"],
            "session_id": session["id"],
            "link_id": link_id,
            "patient_id": person.id,
            "alert_id": alerts[0]["id"],
            "outcome_id": outcome["id"],
            "segment_type": "EXERCISE_SEGMENT_TYPE_LEG_RAISE",
        },
        problem="validation-error",
    )
    request.node.user_properties.append(("fuzz_statuses", world.statuses))
    yield world
    assert not world.each_must_reach or not world.unreached(), (
        f"never reached a real object (no 2xx): {world.unreached()}; answered {world.statuses}"
    )


_CALLERS: dict[tuple[str, str], str | None] = {}


def caller_for(app: FastAPI, case: Case[Any]) -> str | None:
    if not _CALLERS:
        _CALLERS.update({(m, p): c for m, p, c in operations(app)})
    return _CALLERS[(case.operation.method.upper(), case.operation.path)]


# Rules JSON Schema cannot state: fields that depend on each other, names that must exist
# in the catalog, cursors only the server can issue. Schema-valid data may be refused for
# these reasons alone, with a 422 that names the field. Any other refusal of valid data
# still fails (schemathesis.toml turns the plain check off in favour of this one).
SLUG_LISTS = r"exclude|cleared|start_dates|caps|reps|focus|equipment(\.\w+)?|muscles\.\w+"
# (field, start of message): both must match, so a new server-side limit that is tighter
# than the document is still caught.
BUSINESS_RULES = tuple(
    (re.compile(field), re.compile(message))
    for field, message in (
        # Fields that depend on each other.
        ("dose", r"\w+ and \w+ must be given together|\w+ \(\d+\) must not exceed \w+ \("),
        ("dose", r"a dose needs reps, a hold time or minutes"),
        ("muscles|equipment", r"(muscles|equipment) listed as both"),
        (r"entries\.\d+", r"give the reps of each completed set"),
        # The shortest session depends on the routine and the equipment at hand.
        ("minutes", r"\d+ minutes is too short: "),
        (r"entries\.\d+\.exercise_slug", r"listed twice"),
        ("slug", r"slugs never change"),
        ("red_flags_resolved", r"a resolution check-in must report no red flags"),
        ("pregnancy_weeks", r"required when pregnant is true|only given when pregnant is true"),
        ("during_pain_safe_max", r"must stay below during_pain_max"),
        (r"caution_limits(\.[\w-]+)?", r"\S+ is not among this exercise's cautions"),
        ("cleared_despite_screening", r"each must also be in cleared"),
        (
            "birth_year",
            r"required: your profile has none|must be at least \d+ years ago"
            r"|cannot be removed once",
        ),
        # Names that must exist: catalog entries, time zones, invitations, sessions.
        ("easier|harder", r"an exercise cannot be its own variation|no exercise ['\"]|linking "),
        ("harder", r"easier and harder variations must differ"),
        ("exercise_slug", r"no exercise ['\"]"),
        (SLUG_LISTS, r"unknown (exercise|muscle|equipment)"),
        # The name is quoted as Python's repr quotes it: with " when it holds a '.
        ("muscle", r"unknown muscle ['\"]"),
        ("timezone", r"not an IANA time zone name"),
        ("code", r"unknown, already used or expired invitation code"),
        ("code", r"you cannot link yourself|this invitation is no longer valid"),
        ("session_id", r"no such session of yours"),
        (r"entries\.\d+\.exercise_slug", r"('[^']*'|\"[^\"]*\") is not in this session"),
        ("cursor", r"not a cursor returned by this API"),
        # Which items an outcome takes depends on its instrument (GET /v1/instruments).
        (
            r"answers(\.\w+)*",
            r"not an item of this instrument|this item must be answered|at least \d+ of \d+ "
            r"items must be answered|one of [\d, ]+$|give \d+ to \d+ activities"
            r"|each activity once|name the activity|each activity is",
        ),
        ("since", r"cannot be combined with matched"),
        # The clock: nothing recorded in the future; an end after its start, within a bound.
        ("recorded_at|started_at", r"is in the future"),
        (r"[\w.]+", r"must be from 1900-01-01 to 2199-12-31 \(UTC\)"),
        ("ended_at", r"must be after started_at|is before started_at|a \w+ cannot last more"),
        (r"(heart_rate|reps)\.\d+\.t", r"is outside started_at\.\.ended_at"),
        # Imports (issue 20): the same, in the platforms' own names.
        (
            r"exerciseSession\.endTime|workout\.endDate",
            r"must be after start(Time|Date)|a workout cannot last more",
        ),
        (r"exerciseSession\.startTime|workout\.startDate", r"is in the future"),
        (r"exerciseSession\.segments\.\d+", r"must lie within the session"),
        ("workout.metadata.HKTimeZone", r"not an IANA time zone name"),
        # PostgreSQL text cannot hold U+0000; the API description says it is refused.
        (r"[\w.]+", r"must not contain NUL \(U\+0000\) characters"),
        # RFC 6761 reserved domains (.arpa, .local, .test ...) are no one's address.
        ("email", r"value is not a valid email address: The part after the @-sign is a special"),
    )
)


def _is_business_rule(error: dict[str, Any]) -> bool:
    field = str(error.get("field", ""))
    message = str(error.get("message", "")).removeprefix("Value error, ")
    return any(f.fullmatch(field) and m.match(message) for f, m in BUSINESS_RULES)


# Refusals the API contract itself prescribes for schema-valid data, by status: the same
# Idempotency-Key with another body is 422 (the fuzzer reuses keys freely); a write to a
# real object whose If-Match is stale is 412 (the fuzzer cannot know the current ETag).
CONTRACT_REFUSALS = {
    422: {"/problems/idempotency-key-reused"},
    412: {"/problems/precondition-failed"},
    428: {"/problems/precondition-required"},
}
# 428 only where If-Match is required by state alone: a session's first log needs none,
# a correction of it does. (An exercise's PUT and PATCH always need it: the document
# says so, and a request without it is invalid data.)
STATE_REQUIRES_IF_MATCH = {("PUT", "/v1/sessions/{session_id}/log")}


def _only_business_rules(response: Response, case: Case[Any]) -> bool:
    if response.status_code not in CONTRACT_REFUSALS:
        return False
    operation = (case.operation.method.upper(), case.operation.path)
    if response.status_code == 428 and operation not in STATE_REQUIRES_IF_MATCH:
        return False
    try:
        problem = json.loads(response.content)
    except ValueError:
        return False
    if problem.get("type") in CONTRACT_REFUSALS[response.status_code]:
        return True
    if response.status_code != 422:
        return False
    errors = problem.get("errors")
    if not isinstance(errors, list):
        return False
    return bool(errors) and all(isinstance(e, dict) and _is_business_rule(e) for e in errors)


def positive_data_acceptance_beyond_business_rules(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if _only_business_rules(response, case):
            return None
        raise


@schema.parametrize()
@settings(
    deadline=None,
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    database=None,
    # One world per operation, shared by its examples on purpose: state builds up the
    # way it does for a real client.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_every_operation_holds_to_its_schema(case: Case[Any], world: World) -> None:
    headers = world.for_caller(caller_for(world.app, case))
    world.aim(case)
    response = case.call_and_validate(
        app=world.app,
        headers=headers,
        additional_checks=[positive_data_acceptance_beyond_business_rules],
    )
    world.saw(case, response.status_code)


# Sequences of operations, chained by what one answers and the next takes (the links
# Schemathesis infers from the document: POST /v1/checkins -> GET /v1/checkins/{id},
# POST /v1/me/devices -> DELETE /v1/me/devices/{id}, GET /v1/patients -> its summary,
# ...), so that checks about state (use_after_free, ensure_resource_availability) can
# fire. Built once: inferring the links reads the whole document.
# The catalog's writes are left out (each is fuzzed above, on a real exercise): every
# scenario shares the catalog, and a slug one scenario made is a 409 in the next, which
# changes what the next one can chain (Hypothesis refuses a run that does not repeat).
Workflow = schema.exclude(
    method=["POST", "PUT", "PATCH", "DELETE"], path_regex=r"^/v1/exercises"
).as_state_machine()


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def test_operations_in_sequence_hold_to_their_schema(
    world: World, make_account: AccountFactory
) -> None:
    world.each_must_reach = False

    class Scenario(Workflow):  # type: ignore[misc,valid-type]
        def setup(self) -> None:
            # Each scenario as a new person and their new clinician: what one left behind
            # (a red flag that blocks building sessions, an acknowledged alert) would
            # make the next answer otherwise than the same steps did before, and
            # Hypothesis refuses a run that does not repeat.
            person, clinician = make_account(), make_account("clinician")
            made = world.client.post("/v1/clinician/invitations", headers=clinician.headers)
            linked = world.client.post(
                "/v1/me/clinicians", headers=person.headers, json={"code": made.json()["code"]}
            )
            assert linked.status_code == 201, linked.text
            world.headers["user"], world.headers["clinician"] = person.headers, clinician.headers
            self.client_ids: dict[Any, str] = {}

        def before_call(self, case: Case[Any]) -> None:
            # Client ids (a check-in's, a session's, a device's) fresh in each scenario,
            # the same generated id always the same fresh one: an id the data repeats
            # from an earlier scenario would otherwise be another person's (a 409), and
            # the same steps would answer otherwise than before.
            body = case.body
            if not isinstance(body, dict):
                return
            generated = body.get("id")
            if isinstance(generated, str) and _is_uuid(generated):  # invalid ones stay
                body["id"] = self.client_ids.setdefault(generated, str(uuid.uuid4()))

        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            return {"app": world.app, "headers": world.for_caller(caller_for(world.app, case))}

        def validate_response(
            self, response: Response, case: Case[Any], additional_checks: Any = None, **kwargs: Any
        ) -> None:
            world.saw(case, response.status_code)
            super().validate_response(
                response,
                case,
                additional_checks=[positive_data_acceptance_beyond_business_rules],
                **kwargs,
            )

    Scenario.run(
        settings=settings(
            deadline=None,
            derandomize=not os.environ.get("FUZZ_RANDOM"),
            database=None,
            max_examples=int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "40")),
            stateful_step_count=8,
            suppress_health_check=list(HealthCheck),
        )
    )
    # Chains that reached a real object through an id another answer gave.
    assert any(
        "{" in label and any(200 <= s < 300 for s in seen) for label, seen in world.statuses.items()
    ), world.statuses
