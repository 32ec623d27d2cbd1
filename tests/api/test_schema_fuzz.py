"""Schema fuzzing: Schemathesis drives every operation in the OpenAPI document.

Each operation gets valid and invalid requests (``schemathesis.toml`` sets the examples per
operation and lists any check that is switched off, with the reason), sent as the caller
the operation needs: a person, an admin, a clinician linked to that person, or a device.
Every built-in check must pass, so the document and the server agree on what is accepted,
what is refused and what comes back.

The run is derandomized so CI is repeatable; ``FUZZ_RANDOM=1`` explores new inputs.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import CheckContext
from schemathesis.core.transport import Response
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


@dataclass
class World:
    app: FastAPI
    headers: dict[str, dict[str, str]]

    def for_caller(self, caller: str | None) -> dict[str, str]:
        return dict(self.headers.get(caller or "", {}))


@pytest.fixture
def world(
    app: FastAPI,
    client: TestClient,
    seeded: object,
    make_account: AccountFactory,
    clock: FakeClock,
) -> Iterator[World]:
    person: Account = make_account()
    admin, clinician = make_account("admin"), make_account("clinician")
    code = client.post("/v1/clinician/invitations", headers=clinician.headers).json()["code"]
    assert (
        client.post("/v1/me/clinicians", headers=person.headers, json={"code": code}).status_code
        == 201
    )
    device = client.post("/v1/me/devices", headers=person.headers, json={"name": "Band"})
    assert device.status_code == 201, device.text
    # Some history, so reads have something to page through.
    assert (
        client.post(
            "/v1/checkins",
            headers=person.headers,
            json={"recorded_at": clock.now.isoformat(), "phase": "daily", "pain": 2},
        ).status_code
        == 201
    )
    assert client.post("/v1/sessions", headers=person.headers, json={}).status_code == 201
    yield World(
        app=app,
        headers={
            "user": person.headers,
            "admin": admin.headers,
            "clinician": clinician.headers,
            "device": {"Authorization": f"Bearer {device.json()['token']}"},
        },
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
        ("caution_limits", r"\S+ is not among this exercise's cautions"),
        ("cleared_despite_screening", r"each must also be in cleared"),
        (
            "birth_year",
            r"required: your profile has none|must be at least \d+ years ago"
            r"|cannot be removed once",
        ),
        # Names that must exist: catalog entries, time zones, invitations, sessions.
        ("easier|harder", r"an exercise cannot be its own variation|no exercise '|linking "),
        ("harder", r"easier and harder variations must differ"),
        ("exercise_slug", r"no exercise '"),
        (SLUG_LISTS, r"unknown (exercise|muscle|equipment)"),
        ("muscle", r"unknown muscle '"),
        ("timezone", r"not an IANA time zone name"),
        ("code", r"unknown, already used or expired invitation code"),
        ("code", r"you cannot link yourself|this invitation is no longer valid"),
        ("session_id", r"no such session of yours"),
        ("cursor", r"not a cursor returned by this API"),
        # The clock: nothing recorded in the future; an end after its start, within a bound.
        ("recorded_at|started_at", r"is in the future"),
        (r"[\w.]+", r"must be from 1900-01-01 to 2199-12-31 \(UTC\)"),
        ("ended_at", r"must be after started_at|is before started_at|a \w+ cannot last more"),
        (r"(heart_rate|reps)\.\d+\.t", r"is outside started_at\.\.ended_at"),
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


# Refusals the API contract itself prescribes for schema-valid data: the same
# Idempotency-Key with another body is 422 (the fuzzer reuses keys freely).
CONTRACT_REFUSALS = {"/problems/idempotency-key-reused"}


def _only_business_rules(response: Response) -> bool:
    if response.status_code != 422:
        return False
    try:
        problem = json.loads(response.content)
    except ValueError:
        return False
    if problem.get("type") in CONTRACT_REFUSALS:
        return True
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
        if _only_business_rules(response):
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
    case.call_and_validate(
        app=world.app,
        headers=headers,
        additional_checks=[positive_data_acceptance_beyond_business_rules],
    )
