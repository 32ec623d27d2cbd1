"""Database plumbing: UTC timestamps on both databases, SQLite pragmas and its write gate."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from api.config import Settings
from api.db import make_engine
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


def _sqlite_engine(tmp_path: Path, gate_seconds: float = 0.3) -> Engine:
    # The gate waits as long as a request may wait for a connection.
    engine = make_engine(
        Settings(
            _env_file=None,
            database_url=f"sqlite:///{tmp_path / 'gate.db'}",
            db_pool_timeout_seconds=gate_seconds,
        )
    )
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
    return engine


def _writes_at_once(engine: Engine) -> None:
    """A write on a fresh connection goes through, so nobody holds the write gate."""
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO t (x) SELECT coalesce(max(x), 0) + 1 FROM t"))
        conn.commit()


def test_sqlite_writers_queue_in_the_process_and_a_long_wait_is_database_locked(
    tmp_path: Path,
) -> None:
    engine = _sqlite_engine(tmp_path)
    try:
        with engine.connect() as first:
            first.execute(text("INSERT INTO t (x) VALUES (100)"))
            # A second writer waits for the first one's commit, and no longer than a
            # request may wait for a connection: then it is told the database is locked.
            with pytest.raises(OperationalError, match="database is locked"):
                _writes_at_once(engine)
            first.commit()
        _writes_at_once(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize("ending", ["commit", "rollback", "close", "failed commit"])
def test_the_write_gate_is_let_go_when_the_transaction_ends(tmp_path: Path, ending: str) -> None:
    engine = _sqlite_engine(tmp_path)
    try:
        conn = engine.connect()
        conn.execute(text("INSERT INTO t (x) VALUES (1)"))
        if ending == "commit":
            conn.commit()
        elif ending == "rollback":
            conn.rollback()
        elif ending == "close":
            conn.close()
        else:
            # A statement that fails inside the transaction keeps it (and the gate) until
            # the rollback that follows.
            with pytest.raises(IntegrityError):
                conn.execute(text("INSERT INTO t (x) VALUES (1)"))
            conn.rollback()
        _writes_at_once(engine)
        conn.close()
    finally:
        engine.dispose()


def test_a_write_in_autocommit_mode_holds_no_gate(tmp_path: Path) -> None:
    engine = _sqlite_engine(tmp_path)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("INSERT INTO t (x) VALUES (7)"))
            _writes_at_once(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 2
    finally:
        engine.dispose()


def test_concurrent_writers_on_sqlite_all_get_through(tmp_path: Path) -> None:
    engine = _sqlite_engine(tmp_path, gate_seconds=30)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(20):
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO t (x) SELECT coalesce(max(x), 0) + 1 FROM t"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=writer) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*), max(x) FROM t")).one() == (160, 160)
    finally:
        engine.dispose()


@pytest.mark.parametrize("second_engine", [False, True], ids=["same process", "other process"])
def test_a_second_writer_waits_for_the_first_in_line_not_in_sqlite(
    tmp_path: Path, second_engine: bool
) -> None:
    engine = _sqlite_engine(tmp_path, gate_seconds=30)
    # Another engine on the same file has its own thread lock, as another worker process
    # has: the two meet at the gate file.
    other = make_engine(
        Settings(_env_file=None, database_url=str(engine.url), db_pool_timeout_seconds=30)
    )
    # Without SQLite's busy handler a writer that meets the lock fails at once: the
    # second writer below gets through only because it waited for the gate.
    for each in (engine, other):
        event.listen(each, "connect", lambda conn, _: conn.execute("PRAGMA busy_timeout=0"))
    engine.dispose()
    first_writes = threading.Event()
    outcome: list[object] = []

    def second() -> None:
        first_writes.wait()
        try:
            _writes_at_once(other if second_engine else engine)
            outcome.append("written")
        except OperationalError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    try:
        with engine.connect() as first:
            first.execute(text("INSERT INTO t (x) VALUES (100)"))
            first_writes.set()
            thread.join(timeout=0.3)  # the second writer is still waiting
            assert outcome == []
            first.commit()
        thread.join()
        assert outcome == ["written"]
    finally:
        engine.dispose()
        other.dispose()
