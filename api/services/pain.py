"""Check-ins and advice: store what people report, evaluate the rules, keep the advice."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Uuid, bindparam
from sqlmodel import Session, col, select

from api.db import offset_minutes
from api.domain.catalog import CatalogInfo
from api.domain.types import (
    CANCER_FLAGS,
    CAUDA_EQUINA_FLAGS,
    INFECTION_OR_FRACTURE_FLAGS,
    NIGHT_PAIN_FLAG,
    SERIOUS_CAUSE_FLAGS,
)
from api.errors import ClientIdReused, FieldError, NotFound
from api.models import AdviceRow, CheckInRow, TrainingSession, User
from api.pagination import keyset_page
from api.schemas.pain import (
    AdvicePublic,
    Assessment,
    CheckInCreate,
    CheckInPublic,
    StoredAdvice,
)
from api.services.advice import advice_public
from api.services.clock import CLOCK_SKEW, future_error
from api.services.evaluation import evaluate_person
from api.services.store import body_digest, insert_or_existing


def checkin_public(row: CheckInRow) -> CheckInPublic:
    return CheckInPublic.model_validate(row, from_attributes=True)


# Prebuilt: runs only for check-ins that name a session.
_SESSION_OWNER = select(TrainingSession.user_id).where(
    TrainingSession.id == bindparam("session_id", type_=Uuid())
)


def _validate(
    session: Session,
    user: User,
    body: CheckInCreate,
    catalog: Mapping[str, CatalogInfo],
    now: datetime,
) -> None:
    errors = future_error("recorded_at", body.recorded_at, now)
    yes = body.red_flags.yes()
    if body.red_flags_resolved and yes:
        errors.append(
            ("red_flags_resolved", "a resolution check-in must report no red flags", "conflict")
        )
    resolved = body.red_flags_resolved
    if isinstance(resolved, Assessment):
        future = future_error("red_flags_resolved.assessed_at", resolved.assessed_at, now)
        errors += future
        if not future and resolved.assessed_at > body.recorded_at + CLOCK_SKEW:
            errors.append(
                (
                    "red_flags_resolved.assessed_at",
                    "an assessment must have happened by the time of this check-in (recorded_at)",
                    "order",
                )
            )
    if body.exercise_slug is not None and body.exercise_slug not in catalog:
        errors.append(("exercise_slug", f"no exercise {body.exercise_slug!r}", "unknown"))
    if body.session_id is not None:
        # Someone else's session is refused, as wearable uploads refuse it. A session the
        # server has not seen is taken: an offline app may sync the check-in first (or its
        # session may have been refused), and a pain report is never lost over it.
        owner = session.exec(_SESSION_OWNER, params={"session_id": body.session_id}).first()
        if owner is not None and owner != user.id:
            errors.append(("session_id", "no such session of yours", "unknown"))
    if errors:
        raise FieldError(errors)


def record_checkin(
    session: Session,
    user: User,
    body: CheckInCreate,
    catalog: Mapping[str, CatalogInfo],
    now: datetime,
) -> tuple[CheckInPublic, AdvicePublic, bool]:
    """Store a check-in and evaluate with it. Returns (check-in, advice, newly created)."""
    # Fields added later count only when given, so a retry of a check-in stored before
    # them still matches its digest.
    digest = body_digest(
        body, exclude={"id"} | ({"leg_numbness"} if body.leg_numbness is None else set())
    )
    if body.id is not None:
        existing = session.get(CheckInRow, body.id)
        if existing is not None:
            return _replay(session, user, existing, digest, catalog, now)
    _validate(session, user, body, catalog, now)
    yes = body.red_flags.yes()
    assessment = (
        body.red_flags_resolved if isinstance(body.red_flags_resolved, Assessment) else None
    )
    row = CheckInRow(
        id=body.id or uuid.uuid4(),
        user_id=user.id,
        # A clock a little ahead is accepted, but nothing is stored as later than now:
        # the advice returned with it must already count it.
        recorded_at=min(body.recorded_at, now),
        recorded_offset_minutes=offset_minutes(body.recorded_at),
        received_at=now,
        phase=body.phase,
        pain=body.pain,
        session_id=body.session_id,
        exercise_slug=body.exercise_slug,
        locations=list(body.locations),
        radiating_below_knee=body.radiating_below_knee,
        leg_numbness=body.leg_numbness,
        red_flags={k: v for k, v in body.red_flags.model_dump().items() if v is not None},
        cauda_equina=bool(yes & CAUDA_EQUINA_FLAGS),
        serious_cause=bool(yes & SERIOUS_CAUSE_FLAGS),
        infection_or_fracture=bool(yes & INFECTION_OR_FRACTURE_FLAGS),
        cancer_concern=bool(yes & CANCER_FLAGS),
        night_pain=NIGHT_PAIN_FLAG in yes,
        night_pain_denied=body.red_flags.night_pain is False,
        red_flags_resolved=bool(body.red_flags_resolved),
        assessed_by=assessment.assessed_by if assessment else None,
        assessed_at=min(assessment.assessed_at, now) if assessment else None,
        note=body.note,
        body_hash=digest,
    )
    stored = insert_or_existing(session, row, lambda: session.get(CheckInRow, row.id))
    if stored is not None:
        return _replay(session, user, stored, digest, catalog, now)
    advice = evaluate_person(session, user, now, catalog, record=True).advice
    session.commit()
    return checkin_public(row), advice_public(advice), True


def _replay(
    session: Session,
    user: User,
    existing: CheckInRow,
    digest: str,
    catalog: Mapping[str, CatalogInfo],
    now: datetime,
) -> tuple[CheckInPublic, AdvicePublic, bool]:
    if existing.user_id != user.id or existing.body_hash != digest:
        raise ClientIdReused(
            "This check-in id is already used by a different check-in; "
            "generate a new id for new data."
        )
    advice = evaluate_person(session, user, now, catalog, record=True).advice
    session.commit()
    return checkin_public(existing), advice_public(advice), False


def current_advice(
    session: Session, user: User, catalog: Mapping[str, CatalogInfo], now: datetime
) -> AdvicePublic:
    """The advice now, as the next write would record it; reading it writes nothing."""
    return advice_public(evaluate_person(session, user, now, catalog, record=False).advice)


def advice_history(
    session: Session,
    user: User,
    *,
    since: datetime | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[StoredAdvice], str | None]:
    """Newest first; with `since`, the entries stored since, oldest first (stored advice
    never changes, and is stored at the moment it was evaluated)."""
    stmt = select(AdviceRow).where(AdviceRow.user_id == user.id)
    if since is not None:
        stmt = stmt.where(col(AdviceRow.evaluated_at) >= since)
    rows, next_cursor = keyset_page(
        session,
        stmt,
        time_col=AdviceRow.evaluated_at,
        id_col=AdviceRow.id,
        limit=limit,
        cursor=cursor,
        descending=since is None,
    )
    return [StoredAdvice.model_validate(r, from_attributes=True) for r in rows], next_cursor


def list_checkins(
    session: Session, user: User, *, since: datetime | None, limit: int, cursor: str | None
) -> tuple[list[CheckInPublic], str | None]:
    stmt = select(CheckInRow).where(CheckInRow.user_id == user.id)
    if since is not None:
        stmt = stmt.where(col(CheckInRow.received_at) >= since)
    rows, next_cursor = keyset_page(
        session,
        stmt,
        time_col=CheckInRow.received_at,
        id_col=CheckInRow.id,
        limit=limit,
        cursor=cursor,
    )
    return [checkin_public(r) for r in rows], next_cursor


def get_checkin(session: Session, user: User, checkin_id: uuid.UUID) -> CheckInPublic:
    row = session.get(CheckInRow, checkin_id)
    if row is None or row.user_id != user.id:
        raise NotFound("No such check-in.")
    return checkin_public(row)
