"""The window read through the row cache is always the whole read (issue 16)."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from api.domain.rules import WINDOW
from api.services import history_queries as queries
from api.services import row_cache
from api.services.history import _window, checkin_to_domain, log_to_domain
from tests.api.test_training import build, checkin, good_session, log_body, put_log
from tests.conftest import Account, FakeClock

pytestmark = pytest.mark.usefixtures("seeded")


def _compare(db: Engine, account: Account, clock: FakeClock) -> tuple[set, set]:  # type: ignore[type-arg]
    person = uuid.UUID(account.id)
    now = clock.now
    since = now - WINDOW
    with Session(db) as s:
        rows, logs = queries.window(s, person, now, since, since - WINDOW)
        whole = (
            {checkin_to_domain(r) for r in rows},
            {log_to_domain(log, log.planned_items) for log in logs},
        )
        checkins, kept_logs = _window(s, person, now, since, since - WINDOW)
    assert len(checkins) == len(rows) and len(kept_logs) == len(logs)
    assert (set(checkins), set(kept_logs)) == whole
    return whole


def test_the_kept_window_is_the_whole_read_cold_warm_and_after_a_correction(
    client: TestClient, user: Account, clock: FakeClock, db: Engine
) -> None:
    good_session(client, user, clock)
    clock.advance(hours=10)
    session = build(client, user).json()
    checkin(client, user, clock, 2, "before", session_id=session["id"])
    clock.advance(minutes=30)
    body = log_body(session, clock)
    assert put_log(client, user, session["id"], body).status_code == 200
    clock.advance(minutes=5)
    warm = _compare(db, user, clock)  # the requests above filled the cache
    assert len(warm[0]) >= 3 and len(warm[1]) == 2
    row_cache.clear(db)
    assert _compare(db, user, clock) == warm  # cold: everything read whole
    assert _compare(db, user, clock) == warm  # warm again
    # The person corrects the log: the kept version must not be served for it.
    hurt = next(e["exercise_slug"] for e in body["entries"])
    corrected = log_body(session, clock, overrides={hurt: {"pain_during": 8}})
    corrected["started_at"], corrected["ended_at"] = body["started_at"], body["ended_at"]
    response = client.put(
        f"/v1/sessions/{session['id']}/log",
        headers={**user.headers, "If-Match": '"log-1"'},
        json=corrected,
    )
    assert response.status_code == 200, response.text
    clock.advance(minutes=1)
    after = _compare(db, user, clock)
    (log,) = [x for x in after[1] if x.session_id == session["id"]]
    assert {e.exercise_slug: e.pain_during for e in log.entries}[hurt] == 8
    assert after != warm
