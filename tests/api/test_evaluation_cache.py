"""Reads serve a kept evaluation only while it is the one a fresh evaluation would give
(api/services/evaluation_cache.py, api/changes.py): every write to what the rules read,
from any process, and the passage of time end it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, or_, update
from sqlmodel import Session, col, select

from api.changes import (
    NOT_RULE_INPUTS,
    RULE_INPUTS,
    UnknownPerson,
    holds_person,
    linked_columns,
)
from api.config import Settings
from api.db import make_engine, metadata
from api.models import CheckInRow, User
from api.services import evaluation_cache
from api.services.catalog_snapshot import load_snapshot
from api.services.evaluation import evaluate_person
from tests.api.test_clinicians import link
from tests.api.test_pain import checkin, post
from tests.api.test_screening import OSTEOPOROSIS_OUT, _catalog_slugs, clear, put_screen, unscreened
from tests.conftest import Account, AccountFactory, FakeClock


def kept(app: FastAPI) -> evaluation_cache.EvaluationCache:
    cache = evaluation_cache.configure(app.state.engine, 2048)
    return cache


def advice(client: TestClient, account: Account) -> dict[str, Any]:
    response = client.get("/v1/advice", headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def saddle_numbness(person: uuid.UUID, at: datetime) -> CheckInRow:
    """A check-in with a cauda equina flag, stored directly: urgent care at once."""
    return CheckInRow(
        user_id=person, recorded_at=at, received_at=at, phase="daily", pain=3,
        red_flags={"saddle_numbness": True}, cauda_equina=True, body_hash="x" * 64,
    )  # fmt: skip


def version(db: Engine, account: Account) -> int:
    with Session(db) as s:
        found = s.exec(
            select(col(User.eval_version)).where(col(User.id) == uuid.UUID(account.id))
        ).one()
        return int(found)


def test_a_second_read_is_served_kept_and_stamped_with_its_own_time(
    app: FastAPI, client: TestClient, user: Account, clock: FakeClock
) -> None:
    # At noon: a local midnight or morning between the two reads ends a kept evaluation
    # (rightly), and the clock starts at the real time, which may be just before one.
    clock.now = clock.now.replace(hour=12, minute=0)
    assert post(client, user, checkin(clock, 2)).status_code == 201
    cache = kept(app)
    first = advice(client, user)
    hits = cache.hits
    clock.advance(minutes=3)
    second = advice(client, user)
    assert cache.hits == hits + 1
    assert second["evaluated_at"] > first["evaluated_at"]
    assert {**second, "evaluated_at": None} == {**first, "evaluated_at": None}


def test_a_check_in_ends_the_kept_evaluation_at_once(
    app: FastAPI, client: TestClient, user: Account, clock: FakeClock
) -> None:
    assert post(client, user, checkin(clock, 2)).status_code == 201
    assert advice(client, user)["status"] == "maintain"
    assert advice(client, user)["status"] == "maintain"  # kept
    flagged = post(client, user, checkin(clock, 3, red_flags={"saddle_numbness": True}))
    assert flagged.status_code == 201
    assert advice(client, user)["status"] == "urgent_care"
    routine = client.get("/v1/routine", headers=user.headers)
    assert routine.status_code == 200
    assert routine.json()["advice"]["status"] == "urgent_care"


def test_time_alone_ends_it_where_the_evidence_goes_stale(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    assert post(client, user, checkin(clock, 2)).status_code == 201
    assert advice(client, user)["stale"] is False
    clock.advance(hours=71)
    assert advice(client, user)["stale"] is False  # kept (or evaluated again): still fresh
    clock.advance(hours=1, minutes=1)
    assert advice(client, user)["stale"] is True


def test_a_write_by_another_worker_is_seen_by_this_one(
    client: TestClient, user: Account, clock: FakeClock, settings: Settings
) -> None:
    """Another process has its own cache and engine: only the version tells this one."""
    assert post(client, user, checkin(clock, 2)).status_code == 201
    assert advice(client, user)["status"] == "maintain"
    other = make_engine(settings)
    try:
        with Session(other) as s:
            s.add(saddle_numbness(uuid.UUID(user.id), clock.now - timedelta(minutes=1)))
            s.commit()
    finally:
        other.dispose()
    assert advice(client, user)["status"] == "urgent_care"


def test_each_transaction_moves_the_version_once_and_a_rollback_not_at_all(
    db: Engine, user: Account, clock: FakeClock
) -> None:
    start = version(db, user)
    person = uuid.UUID(user.id)

    def row(pain: int) -> CheckInRow:
        at = clock.now - timedelta(minutes=pain)
        return CheckInRow(
            user_id=person, recorded_at=at, received_at=at, phase="daily", pain=pain,
            body_hash="x" * 64,
        )  # fmt: skip

    with Session(db) as s:
        s.add(row(1))
        s.flush()
        s.add(row(2))
        s.commit()
    assert version(db, user) == start + 1
    with Session(db) as s:
        s.add(row(3))
        s.flush()
        s.rollback()
    assert version(db, user) == start + 1
    with Session(db) as s:  # a Core statement names its person in its WHERE clause
        s.execute(update(CheckInRow).where(col(CheckInRow.user_id) == person).values(pain=4))
        s.commit()
    assert version(db, user) == start + 2


def test_a_transaction_holds_the_person_from_its_first_write_to_its_end(
    db: Engine, user: Account, clock: FakeClock
) -> None:
    """What store_if_changed relies on to skip its second read of the latest advice."""
    person = uuid.UUID(user.id)

    def store(s: Session, pain: int) -> None:
        at = clock.now - timedelta(minutes=pain)
        s.add(
            CheckInRow(
                user_id=person, recorded_at=at, received_at=at, phase="daily", pain=pain,
                body_hash="x" * 64,
            )
        )  # fmt: skip
        s.flush()

    with Session(db) as s:
        assert not holds_person(s, person)
        store(s, 3)
        assert holds_person(s, person)
        assert not holds_person(s, uuid.uuid4())
        s.commit()
        assert not holds_person(s, person)
        # A savepoint rolled back with the only move, or the whole transaction: not held.
        s.begin()
        nested = s.begin_nested()
        store(s, 4)
        assert holds_person(s, person)
        nested.rollback()
        assert not holds_person(s, person)
        s.rollback()
        assert not holds_person(s, person)


def test_a_core_write_that_names_no_person_is_refused(db: Engine) -> None:
    someone = uuid.uuid4()
    for where in (
        None,
        col(CheckInRow.user_id) != someone,  # everyone else
        or_(col(CheckInRow.user_id) == someone, col(CheckInRow.pain) > 5),  # and more
    ):
        statement = update(CheckInRow).values(pain=0)
        with Session(db) as s, pytest.raises(UnknownPerson):
            s.execute(statement if where is None else statement.where(where))


def test_every_other_reference_to_a_person_in_a_rule_input_is_known() -> None:
    """Deleting a user changes these rows in the database itself (CASCADE, SET NULL):
    account deletion moves the versions of the people they belong to (bump_linked)."""
    assert linked_columns() == {
        "clinician_actions": ["clinician_id"],
        "clinician_links": ["clinician_id"],
        "clinician_plans": ["updated_by"],
        "user_thresholds": ["updated_by"],
    }


def test_a_write_then_a_read_in_one_session_sees_the_write(
    app: FastAPI, db: Engine, user: Account, clock: FakeClock, seeded: Any
) -> None:
    """The person loaded before the write must not keep the number from before it."""
    kept(app)
    with Session(db, expire_on_commit=False) as s:
        person = s.get(User, uuid.UUID(user.id))
        assert person is not None
        catalog = load_snapshot(s, 0).rule_catalog
        now = clock()
        for _ in range(2):
            assert evaluate_person(s, person, now, catalog, record=False).advice.status == (
                "maintain"
            )
            s.commit()
        s.add(saddle_numbness(person.id, now - timedelta(minutes=1)))
        s.commit()
        after = evaluate_person(s, person, clock(), catalog, record=False)
        assert after.advice.status == "urgent_care"


def test_every_table_is_a_rule_input_or_named_as_not_one() -> None:
    """A new table must be placed: a rule input left out would be served stale."""
    assert not RULE_INPUTS & NOT_RULE_INPUTS
    assert set(metadata.tables) == RULE_INPUTS | NOT_RULE_INPUTS
    assert all("user_id" in metadata.tables[name].c for name in RULE_INPUTS)


def test_an_entry_is_not_served_for_another_catalog_or_an_edited_person(
    db: Engine, user: Account, clock: FakeClock
) -> None:
    cache = evaluation_cache.EvaluationCache(4)
    with Session(db) as s:
        person = s.get(User, uuid.UUID(user.id))
        assert person is not None
        catalog: dict[str, Any] = {}
        now = clock.now
        cache.put(person, catalog, now, now + timedelta(hours=1), "kept")
        assert cache.get(person, catalog, now + timedelta(minutes=1)) == "kept"
        assert cache.get(person, {}, now + timedelta(minutes=1)) is None
        assert cache.get(person, catalog, now - timedelta(seconds=1)) is None  # clock back
        assert cache.get(person, catalog, now + evaluation_cache.MAX_HOLD) is None
        person.timezone = "Europe/Paris"
        assert cache.get(person, catalog, now + timedelta(minutes=1)) is None


def test_deleting_a_clinician_ends_their_patients_kept_evaluations(
    client: TestClient, make_account: AccountFactory, seeded: Any
) -> None:
    """The database deletes the links itself (ON DELETE CASCADE): no session event sees
    the patient's rows change, so account deletion moves their version."""
    user = unscreened(make_account)
    clinician = make_account(role="clinician")
    put_screen(client, user, osteoporosis=True)
    link(client, user, clinician)
    allowed = [s for s in _catalog_slugs(client) if s not in OSTEOPOROSIS_OUT]
    clear(client, clinician, user, [*allowed, "knee-hug"], despite=["knee-hug"])

    def excluded() -> set[str]:
        routine = client.get("/v1/routine", headers=user.headers)
        assert routine.status_code == 200, routine.text
        return {e["exercise_slug"] for e in routine.json()["excluded"]}

    assert "knee-hug" not in excluded()
    assert "knee-hug" not in excluded()  # kept
    gone = client.request(
        "DELETE", "/v1/me", headers=clinician.headers, json={"password": clinician.password}
    )
    assert gone.status_code == 204, gone.text
    assert "knee-hug" in excluded()
