"""An import's segment reps as the log of a session the person has not logged (issue 20).

Health Connect counts repetitions per segment; when a recording is of a session the person
built but did not log, those counts are the best record of it there is, so they become its
log. Never over a log the person sent: theirs is what they did, as they saw it. A filled
log says nothing of pain (no `pain_during`, no `pain_after`), so the rules take no step up
on it (CLINICAL.md: no pain recorded is no step up), while the session counts as done.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from api import changes
from api.domain.catalog import CatalogInfo
from api.models import SessionLogRow, TrainingSession, User, WearableUpload
from api.schemas.logs import LogIn
from api.services.evaluation import evaluate_person
from api.services.logs import MAX_SESSION_LENGTH, store_log
from api.services.store import body_digest

# A session is built before it is done, usually the same day: one built in the day before
# the workout began (or while it ran) may be the one it recorded.
BUILT_WITHIN = timedelta(hours=24)
# Candidates looked at, newest first: more unlogged sessions than this in a day is no
# pattern a match could trust anyway.
MAX_CANDIDATES = 20


def counted_slugs(segments: list[dict[str, Any]]) -> set[str]:
    """The catalog exercises whose repetitions the segments counted."""
    return {s["exercise_slug"] for s in segments if s["exercise_slug"] and s["repetitions"]}


def match_unlogged(
    session: Session, user_id: uuid.UUID, started: datetime, ended: datetime, slugs: set[str]
) -> uuid.UUID | None:
    """The person's latest unlogged session, built from a day before the recording began
    up to its end, that plans one of the exercises it counted."""
    if not slugs:
        return None
    rows = session.exec(
        select(TrainingSession.id, TrainingSession.items)
        .where(
            col(TrainingSession.user_id) == user_id,
            col(TrainingSession.status) == "planned",
            col(TrainingSession.created_at) >= started - BUILT_WITHIN,
            col(TrainingSession.created_at) <= ended,
        )
        .order_by(col(TrainingSession.created_at).desc(), col(TrainingSession.id))
        .limit(MAX_CANDIDATES)
    ).all()
    for session_id, items in rows:
        if slugs & {i["exercise_slug"] for i in items}:
            return session_id
    return None


def _log_of(row: WearableUpload, planned: TrainingSession) -> LogIn | None:
    """The recording's counted segments as a log of the planned session: per planned
    exercise, one set per segment in time order; None when there is nothing to log or it
    would not be a valid log (a segment of more reps than a set can hold)."""
    if row.ended_at - row.started_at > MAX_SESSION_LENGTH:
        return None
    sets: dict[str, list[tuple[str, int]]] = {}
    effort: dict[str, list[float]] = {}
    for segment in row.segments or []:
        slug, reps = segment["exercise_slug"], segment["repetitions"]
        if slug and reps:
            sets.setdefault(slug, []).append((segment["start_time"], reps))
            if (rpe := segment.get("rate_of_perceived_exertion")) is not None:
                effort.setdefault(slug, []).append(rpe)
    entries = [
        {
            "exercise_slug": slug,
            "sets_completed": len(done),
            "reps": [r for _, r in done],
            # The hardest set's effort, rounded up: an effort that rules out a step up
            # is never rounded below its bound.
            "rpe": math.ceil(max(effort[slug])) if slug in effort else None,
        }
        for slug in dict.fromkeys(i["exercise_slug"] for i in planned.items)
        if (done := sorted(sets.get(slug, [])))
    ]
    if not entries:
        return None
    try:
        return LogIn.model_validate(
            {"started_at": row.started_at, "ended_at": row.ended_at, "entries": entries}
        )
    except ValidationError:
        return None


def fill_log(
    session: Session,
    user: User,
    row: WearableUpload,
    catalog: dict[str, CatalogInfo],
    now: datetime,
) -> bool:
    """Write the recording's segment reps as its session's log when the session has none
    (or has the one this recording filled before: a re-import refreshes it), then let the
    rules decide on it. True when the session's log is now the recording's."""
    if row.session_id is None or row.source == "upload":
        return False
    # A log that is not this recording's never becomes its: no need to hold anyone (the
    # usual case, an import of a session the person logged, moves nothing).
    seen = session.get(SessionLogRow, row.session_id)
    if seen is not None and seen.import_id != row.id:
        return False
    # Hold the person first (api/changes.py: their version row on PostgreSQL, the write
    # lock on SQLite), as every writer of their data does before writing; the log read
    # next is then the latest, and a log the person sends waits until this ends.
    changes.bump(session, [user.id])
    planned = session.get(TrainingSession, row.session_id, populate_existing=True)
    if planned is None:
        return False
    existing = session.get(SessionLogRow, planned.id, populate_existing=True)
    if existing is not None and existing.import_id != row.id:
        return False
    body = _log_of(row, planned)
    if body is None:
        return existing is not None
    # Its own digest space: the same entries sent by the person are their log, not a retry.
    digest = hashlib.sha256(f"import:{body_digest(body)}".encode()).hexdigest()
    if existing is not None and existing.body_hash == digest:
        return True
    log = store_log(session, user, planned, existing, body, digest, now, import_id=row.id)
    if log.import_id != row.id:
        return False  # the person's own log got in first: it stays
    evaluate_person(session, user, now, catalog, record=True)
    return True
