"""Database plumbing: UTC timestamps on both databases, SQLite pragmas."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text
from sqlmodel import Session, select

from api.config import Settings
from api.db import READ_BIND, make_engine, reading, release_connection, writer
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


def _read_then_write(engine: Engine, errors: list[str]) -> None:
    """A request's transaction as the services run it: read, think, then write."""
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT count(*) FROM probe")).scalar()
            # Long enough that deferred transactions have all read before one writes,
            # short enough that four in a row stay within busy_timeout.
            time.sleep(0.3)
            conn.execute(text("INSERT INTO probe (n) VALUES (1)"))
    except Exception as exc:  # noqa: BLE001 - the test reports what failed
        errors.append(str(exc))


@pytest.mark.parametrize("immediate", [False, True])
def test_sqlite_write_transactions_wait_for_the_lock(tmp_path: Path, immediate: bool) -> None:
    """Deferred transactions that read and then write fail with "database is locked" when
    another writer commits in between; write transactions begin IMMEDIATE and queue."""
    base = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'locks.db'}"))
    with base.begin() as conn:
        conn.execute(text("CREATE TABLE probe (n INTEGER)"))
    engine = writer(base) if immediate else base
    errors: list[str] = []
    threads = [threading.Thread(target=_read_then_write, args=(engine, errors)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with base.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM probe")).scalar()
    base.dispose()
    if immediate:
        assert errors == []
        assert stored == 4
    else:
        # The control: without IMMEDIATE the same transactions lose writes to the lock.
        assert any("database is locked" in e for e in errors)
        assert stored == 4 - len(errors)


def test_writer_is_the_same_engine_off_sqlite(db: Engine) -> None:
    if db.dialect.name == "sqlite":
        assert writer(db) is not db
        with Session(writer(db)) as session:
            assert session.exec(select(Exercise)).all() == []
    else:
        assert writer(db) is db


def test_who_is_calling_is_read_without_the_write_lock(tmp_path: Path) -> None:
    """A write request's session takes SQLite's write lock for what it writes, not for
    the read of who is calling (`reading` until `release_connection`)."""
    base = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'auth.db'}"))
    with base.begin() as conn:
        conn.execute(text("CREATE TABLE probe (n INTEGER)"))
    begun: list[str] = []
    event.listen(base, "before_cursor_execute", lambda *a: begun.append(a[2]))
    with Session(writer(base)) as session:
        session.info[READ_BIND] = base
        reading(session)
        session.exec(text("SELECT count(*) FROM probe"))  # type: ignore[call-overload]
        release_connection(session)
        session.exec(text("INSERT INTO probe (n) VALUES (1)"))  # type: ignore[call-overload]
        session.commit()
    base.dispose()
    assert [s for s in begun if s.startswith("BEGIN")] == ["BEGIN", "BEGIN IMMEDIATE"]


def test_a_writer_turn_is_never_leaked(tmp_path: Path) -> None:
    """However a write transaction ends (commit, error, a session closed mid-way, a
    connection invalidated), the next writer of the process gets its turn."""
    base = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'turns.db'}"))
    with base.begin() as conn:
        conn.execute(text("CREATE TABLE probe (n INTEGER)"))
    write = writer(base)
    insert = text("INSERT INTO probe (n) VALUES (1)")
    with Session(write) as session:
        session.execute(insert)
        session.commit()
    with pytest.raises(RuntimeError), Session(write) as session, session.begin():
        session.execute(insert)
        raise RuntimeError("the request failed")
    with Session(write) as session:
        session.execute(insert)  # closed without commit or rollback
    broken = write.connect()
    broken.execute(insert)
    broken.invalidate()  # as when the connection died mid-transaction
    errors: list[str] = []
    # In another thread, so a turn still held by this one would block it, not re-enter.
    worker = threading.Thread(target=_read_then_write, args=(write, errors))
    worker.start()
    worker.join(30)
    with base.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM probe")).scalar()
    base.dispose()
    assert errors == []
    assert stored == 2
