"""Database plumbing: UTC timestamps on both databases, SQLite pragmas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from api.models import Exercise


def test_timestamps_round_trip_as_aware_utc(session: Session) -> None:
    local = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-5)))
    row = Exercise(
        slug="tz-probe",
        name="Probe",
        category="stretch",
        position="lying",
        difficulty=1,
        reps_min=1,
        reps_max=2,
        created_at=local,
        updated_at=local,
    )
    session.add(row)
    session.commit()
    session.expunge_all()
    stored = session.exec(select(Exercise).where(Exercise.slug == "tz-probe")).one()
    assert stored.created_at.tzinfo is not None
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.created_at == local
    assert stored.created_at.hour == 6  # 01:30 at -05:00 is 06:30 UTC


def test_naive_timestamps_are_refused(session: Session) -> None:
    row = Exercise(
        slug="naive",
        name="Naive",
        category="stretch",
        position="lying",
        difficulty=1,
        created_at=datetime(2026, 1, 1),
        updated_at=datetime.now(UTC),
    )
    session.add(row)
    with pytest.raises(Exception, match="naive datetime"):
        session.commit()
    session.rollback()


def test_sqlite_pragmas(db: Engine) -> None:
    if db.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_check_constraints_guard_the_catalog(session: Session) -> None:
    session.add(Exercise(slug="bad", name="Bad", category="strength", position="x", difficulty=9))
    with pytest.raises(Exception, match="(?i)check"):
        session.commit()
    session.rollback()
