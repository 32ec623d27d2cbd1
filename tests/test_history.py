"""Loading what the rules read: what a request added and has not flushed is read too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from api.models import CheckInRow, User
from api.services.history import load_history


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
