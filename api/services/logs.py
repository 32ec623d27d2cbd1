"""Workout logs: store (or correct) what was done, then let the rules decide once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api import changes
from api.domain.catalog import CatalogInfo
from api.errors import Conflict, FieldError, FieldIssue, NotFound
from api.models import SessionLogRow, TrainingSession, User
from api.schemas.logs import LogIn, LogPublic
from api.schemas.pain import AdvicePublic
from api.schemas.training import RoutineItemPublic
from api.services.advice import advice_public
from api.services.clock import future_error
from api.services.evaluation import evaluate_person
from api.services.if_match import IfMatch, check_if_match
from api.services.routine import revert_source
from api.services.routine_views import active_items, log_public
from api.services.store import body_digest, insert_or_existing

MAX_SESSION_LENGTH = timedelta(hours=6)


def _check_log(body: LogIn, planned: TrainingSession, now: datetime) -> None:
    errors: list[FieldIssue] = []
    if body.ended_at < body.started_at:
        errors.append(("ended_at", "is before started_at", "order"))
    elif body.ended_at - body.started_at > MAX_SESSION_LENGTH:
        errors.append(("ended_at", "a session cannot last more than 6 hours", "too_long"))
    errors += future_error("started_at", body.started_at, now)
    planned_slugs = {i["exercise_slug"] for i in planned.items}
    seen: set[str] = set()
    for index, entry in enumerate(body.entries):
        if entry.exercise_slug not in planned_slugs:
            errors.append(
                (
                    f"entries.{index}.exercise_slug",
                    f"{entry.exercise_slug!r} is not in this session",
                    "unknown",
                )
            )
        if entry.exercise_slug in seen:
            errors.append((f"entries.{index}.exercise_slug", "listed twice", "duplicate"))
        seen.add(entry.exercise_slug)
    if errors:
        raise FieldError(errors)


def log_etag(log: SessionLogRow) -> str:
    return f'"log-{log.version}"'


def put_log(
    session: Session,
    user: User,
    session_id: uuid.UUID,
    body: LogIn,
    catalog: dict[str, CatalogInfo],
    now: datetime,
    *,
    if_match: IfMatch | None = None,
) -> tuple[LogPublic, AdvicePublic, list[RoutineItemPublic], str]:
    """Store (or correct) a session's log, then evaluate and apply the rules once.

    The same body again is a retry and changes nothing. Another body replaces a stored
    log only with `If-Match` naming the stored version, so a late retry of an old
    version can never overwrite a correction.
    """
    planned = session.get(TrainingSession, session_id)
    if planned is None or planned.user_id != user.id:
        raise NotFound("No such session.")
    _check_log(body, planned, now)
    # A field added later counts only when given, so a retry of a log stored before it
    # still matches its digest.
    digest = body_digest(
        body, exclude={"entries": {i: {"load"} for i, e in enumerate(body.entries) if not e.load}}
    )
    existing = session.get(SessionLogRow, session_id)
    if existing is None or existing.body_hash != digest:
        # About to write: hold the person first (api/changes.py), then read the log
        # again. A recording's fill of it, or another correction, cannot then slip in
        # between the read and the write (its version would be counted twice).
        changes.bump(session, [user.id])
        existing = session.get(SessionLogRow, session_id, populate_existing=True)
    if existing is not None and existing.body_hash == digest:
        log = existing
    else:
        if existing is not None:
            # A log an import filled is not the person's: their own replaces it as a first
            # log would (If-Match, when sent, is still checked).
            check_if_match(
                if_match, log_etag(existing), required=existing.import_id is None,
                what="session log",
            )  # fmt: skip
        log = store_log(session, user, planned, existing, body, digest, now)
    evaluation = evaluate_person(session, user, now, catalog, record=True)
    session.commit()
    return (
        log_public(log),
        advice_public(evaluation.advice),
        active_items(evaluation, evaluation.today(user.timezone)),
        log_etag(log),
    )


def store_log(
    session: Session,
    user: User,
    planned: TrainingSession,
    existing: SessionLogRow | None,
    body: LogIn,
    digest: str,
    now: datetime,
    import_id: uuid.UUID | None = None,
) -> SessionLogRow:
    """Store a first log or replace `existing`; flushed, not committed, not evaluated.
    `import_id`: the import whose segment reps it is (api/services/import_logs.py)."""
    entries = [
        e.model_dump(mode="json", exclude={"load"} if e.load is None else None)
        for e in body.entries
    ]
    # A device clock a little ahead is accepted; nothing is stored as later than now.
    started, ended = min(body.started_at, now), min(body.ended_at, now)
    if existing is not None:
        newer = session.exec(
            select(SessionLogRow.session_id).where(
                SessionLogRow.user_id == user.id,
                col(SessionLogRow.started_at) > existing.started_at,
            )
        ).first()
        if newer is None:
            # The latest log: undo what its old version decided, then decide again. A
            # correction of an older log leaves later doses alone (they built on it).
            revert_source(session, user.id, str(planned.id), now)
        existing.started_at, existing.ended_at = started, ended
        existing.entries, existing.pain_after = entries, body.pain_after
        existing.body_hash = digest
        existing.import_id = import_id
        existing.version += 1
        existing.updated_at = now
        _complete(session, planned, now)
        session.flush()
        return existing
    log = SessionLogRow(
        session_id=planned.id,
        user_id=user.id,
        started_at=started,
        ended_at=ended,
        entries=entries,
        pain_after=body.pain_after,
        body_hash=digest,
        import_id=import_id,
        received_at=now,
        updated_at=now,
    )
    _complete(session, planned, now)
    if import_id is not None:
        # An import never fails for a log that got in first (the person's): in a savepoint,
        # so the import's own rows stay; the caller sees whose log is stored.
        try:
            with session.begin_nested():
                session.add(log)
                session.flush()
        except IntegrityError:
            found = session.get(SessionLogRow, planned.id, populate_existing=True)
            assert found is not None
            return found
        return log
    # The same log arrived twice at once; the other request stored and applied it.
    stored = insert_or_existing(session, log, lambda: session.get(SessionLogRow, planned.id))
    if stored is None:
        return log
    if stored.body_hash != digest:
        raise Conflict("This session's log changed while yours was being saved; retry.")
    return stored


def _complete(session: Session, planned: TrainingSession, now: datetime) -> None:
    planned.status = "completed"
    planned.updated_at = now
    session.add(planned)
