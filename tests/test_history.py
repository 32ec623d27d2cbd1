"""Loading what the rules read: what a request added and has not flushed is read too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from api.models import CheckInRow, User
from api.services import row_cache
from api.services.history import load_history
from api.services.row_cache import RowCache


def test_a_check_in_not_yet_flushed_is_in_the_history(session: Session) -> None:
    """The check-in being stored (its red flag above all) must be what the rules judge,
    although the history is read with Core statements that do not autoflush."""
    now = datetime.now(UTC)
    user = User(email="flushed@example.com", password_hash="x")
    session.add(user)
    session.commit()
    session.add(
        CheckInRow(
            user_id=user.id,
            recorded_at=now - timedelta(minutes=1),
            received_at=now,
            phase="daily",
            pain=6,
            red_flags={"cauda_equina": True},
            cauda_equina=True,
            body_hash="0" * 64,
        )
    )
    history = load_history(session, user.id, now)
    assert [c.pain for c in history.checkins] == [6]
    assert history.last_cauda_equina is not None
    assert history.last_cauda_equina.red_flags == frozenset({"cauda_equina"})
    session.rollback()


def _stored(
    session: Session, user: User, pain: int, received_at: datetime, id: uuid.UUID | None = None
) -> None:
    session.add(
        CheckInRow(
            id=id or uuid.uuid4(),
            user_id=user.id,
            recorded_at=received_at - timedelta(minutes=1),
            received_at=received_at,
            phase="daily",
            pain=pain,
            body_hash="1" * 64,
        )
    )
    session.commit()


def test_the_window_read_again_is_the_window_read_whole(session: Session) -> None:
    """The second read takes the check-ins from the row cache: the history is the same."""
    now = datetime.now(UTC)
    user = User(email="kept@example.com", password_hash="x")
    session.add(user)
    session.commit()
    for hours in range(1, 30):
        _stored(session, user, hours % 11, now - timedelta(hours=hours))
    first = load_history(session, user.id, now)
    kept = len(row_cache.rows_for(session))
    assert kept >= 29
    again = load_history(session, user.id, now)
    assert again == first
    row_cache.rows_for(session).clear()
    assert load_history(session, user.id, now) == first


def test_a_check_in_id_stored_again_is_read_as_stored_now(session: Session) -> None:
    """An account deleted and made anew may send a check-in under an id it used before:
    the content stored now is what the rules read, not what was kept for the id."""
    now = datetime.now(UTC)
    user = User(email="again@example.com", password_hash="x")
    session.add(user)
    session.commit()
    reused = uuid.uuid4()
    _stored(session, user, 8, now - timedelta(hours=2), id=reused)
    assert [c.pain for c in load_history(session, user.id, now).checkins] == [8]
    session.delete(session.get(CheckInRow, reused))
    session.commit()
    _stored(session, user, 2, now - timedelta(hours=1), id=reused)
    assert [c.pain for c in load_history(session, user.id, now).checkins] == [2]


def test_the_row_cache_keeps_at_most_its_size_least_recently_used_out_first() -> None:
    cache = RowCache(rows=2)
    cache.keep({"a": 1, "b": 2})
    assert cache.known(["a"]) == {"a": 1}  # "a" is now the most recent
    cache.keep({"c": 3})
    assert cache.known(["a", "b", "c"]) == {"a": 1, "c": 3}
    off = RowCache(rows=0)
    off.keep({"a": 1})
    assert off.known(["a"]) == {}
