"""Routine, session building, workout logs and progress."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from statistics import fmean
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.domain.builder import BuildError, CatalogExercise, Plan, Request, build
from api.domain.ladder import ladder, level_of
from api.domain.types import REST_PHASES
from api.errors import Conflict, ExerciseBlocked, FieldError, NotFound
from api.models import CheckInRow, DoseChange, RoutineItem, SessionLogRow, TrainingSession, User
from api.pagination import keyset_page
from api.schemas.pain import AdvicePublic
from api.schemas.training import (
    Adherence,
    DoseStep,
    ExerciseProgress,
    LogIn,
    LogPublic,
    PainDay,
    ProgressPublic,
    RoutineItemPublic,
    SessionCreate,
    SessionItem,
    SessionPublic,
)
from api.schemas.wearable import WearableSummary
from api.services.advice import (
    CatalogInfo,
    Evaluation,
    advice_public,
    dose_of,
    ensure_routine,
    evaluate_and_apply,
    load_catalog,
    revert_decisions,
)
from api.services.catalog import Snapshot, check_if_match
from api.services.clinicians import Clearance
from api.services.wearable import session_summaries

CLOCK_SKEW = timedelta(minutes=5)
MAX_SESSION_LENGTH = timedelta(hours=6)
ADHERENCE_WEEKS = 4
STREAK_LOOKBACK = timedelta(days=366)
MAX_PAIN_DAYS = 365


# --- views ---------------------------------------------------------------------------


def routine_item_public(
    item: RoutineItem, catalog: Mapping[str, CatalogInfo], clearance: Clearance | None = None
) -> RoutineItemPublic:
    info = catalog.get(item.exercise_slug)
    dose = clearance.cap(dose_of(item)) if clearance else dose_of(item)
    level = 1
    if info is not None:
        level = level_of(dose, ladder(info.dose)) + 1
    return RoutineItemPublic(
        exercise_slug=item.exercise_slug,
        name=info.name if info else item.exercise_slug,
        sets=dose.sets,
        reps=dose.reps,
        hold_seconds=dose.hold_seconds,
        per_side=dose.per_side,
        level=level,
    )


def active_items(evaluation: Evaluation, today: date | None = None) -> list[RoutineItemPublic]:
    """The exercises in force: active, in the catalog, cleared and started."""
    day = today or evaluation.advice.evaluated_at.date()
    return [
        routine_item_public(item, evaluation.catalog, evaluation.clearance)
        for slug, item in sorted(evaluation.routine.items())
        if item.active
        and slug in evaluation.catalog
        and not evaluation.catalog[slug].archived
        and evaluation.clearance.shows(slug, day)
    ]


def log_public(row: SessionLogRow) -> LogPublic:
    return LogPublic.model_validate(row, from_attributes=True)


def session_public(
    row: TrainingSession, log: SessionLogRow | None, summary: WearableSummary | None = None
) -> SessionPublic:
    return SessionPublic(
        id=row.id,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        minutes=row.minutes,
        estimated_minutes=row.estimated_minutes,
        equipment=row.equipment,
        focus=row.focus,
        exclude=row.exclude,
        advice=AdvicePublic.model_validate(row.advice),
        items=[SessionItem.model_validate(i) for i in row.items],
        dropped=row.dropped,
        notes=row.notes,
        log=log_public(log) if log else None,
        wearable=summary,
    )


def routine_view(
    session: Session, user: User, now: datetime
) -> tuple[list[RoutineItemPublic], AdvicePublic]:
    evaluation = evaluate_and_apply(session, user.id, now)
    session.commit()
    return active_items(evaluation), advice_public(evaluation.advice)


# --- building --------------------------------------------------------------------------


def _builder_catalog(snap: Snapshot) -> list[CatalogExercise]:
    return [
        CatalogExercise(
            slug=e.slug,
            name=e.name,
            category=e.category,
            difficulty=e.difficulty,
            required_equipment=frozenset(g.slug for g in e.equipment if not g.optional),
            primary_muscles=frozenset(m.slug for m in e.muscles if m.role == "primary"),
            secondary_muscles=frozenset(m.slug for m in e.muscles if m.role == "secondary"),
            archived=e.archived,
        )
        for e in snap.exercises
    ]


def _check_request(body: SessionCreate, snap: Snapshot) -> None:
    errors: list[tuple[str, str]] = []
    muscles = {m.slug for m in snap.muscles}
    gear = {e.slug for e in snap.equipment}
    unknown = [m for m in body.focus if m not in muscles]
    if unknown:
        errors.append(("focus", f"unknown muscle(s): {', '.join(unknown)}"))
    unknown = [g for g in body.equipment or [] if g not in gear]
    if unknown:
        errors.append(("equipment", f"unknown equipment: {', '.join(unknown)}"))
    unknown = [x for x in body.exclude if x not in snap.by_slug]
    if unknown:
        errors.append(("exclude", f"unknown exercise(s): {', '.join(unknown)}"))
    if errors:
        raise FieldError(errors)


def _local_date(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def _seed(user: User, now: datetime) -> int:
    # Same person, same day: the same session; another day: another pick among equals.
    day = _local_date(now, user.timezone).isoformat()
    return int(hashlib.sha256(f"{user.id}:{day}".encode()).hexdigest()[:12], 16)


def _items(plan: Plan) -> list[dict[str, object]]:
    return [
        SessionItem(
            exercise_slug=i.exercise_slug,
            name=i.name,
            block=i.block,
            sets=i.sets,
            reps=i.reps,
            hold_seconds=i.hold_seconds,
            per_side=i.per_side,
            rest_seconds=i.rest_seconds,
            minutes=i.minutes,
        ).model_dump()
        for i in plan.items
    ]


def build_session(
    session: Session, user: User, body: SessionCreate, snap: Snapshot, now: datetime
) -> tuple[SessionPublic, bool]:
    """Build and store today's session. Returns (session, newly created)."""
    if body.id is not None:
        existing = session.get(TrainingSession, body.id)
        if existing is not None:
            if existing.user_id != user.id:
                raise Conflict("This session id is already used; generate a new one.")
            return session_public(existing, session.get(SessionLogRow, existing.id)), False
    _check_request(body, snap)
    evaluation = evaluate_and_apply(session, user.id, now)
    advice = advice_public(evaluation.advice)
    if evaluation.advice.status == "urgent_care":
        session.commit()
        raise ExerciseBlocked(
            "Stop exercising and get emergency care now: no session can be built until a "
            "professional has seen you.",
            extra={"advice": advice.model_dump(mode="json")},
        )
    clearance = evaluation.clearance
    doses = {
        slug: clearance.cap(dose_of(item))
        for slug, item in evaluation.routine.items()
        if item.active
    }
    warm_up = {e.slug for e in snap.exercises if e.category == "warmup"}
    waiting = clearance.waiting(_local_date(now, user.timezone)) - warm_up
    request = Request(
        minutes=body.minutes or user.session_minutes,
        equipment=frozenset(body.equipment if body.equipment is not None else user.equipment),
        focus=frozenset(body.focus),
        # Exercises a clinician scheduled for later are left out until their start date.
        exclude=frozenset(body.exclude) | waiting,
        cleared=clearance.cleared,
    )
    try:
        plan = build(
            _builder_catalog(snap), doses, evaluation.advice.status, request, seed=_seed(user, now)
        )
    except BuildError as exc:
        err = FieldError([(exc.field, exc.message)], detail=exc.message)
        if exc.minimum_minutes is not None:
            err.extra["minimum_minutes"] = exc.minimum_minutes
        raise err from exc
    row = TrainingSession(
        id=body.id or uuid.uuid4(),
        user_id=user.id,
        minutes=request.minutes,
        equipment=sorted(request.equipment),
        focus=sorted(request.focus),
        exclude=sorted(request.exclude),
        advice_status=evaluation.advice.status,
        advice=advice.model_dump(mode="json"),
        items=_items(plan),
        notes=list(plan.notes),
        dropped=list(plan.dropped),
        estimated_minutes=plan.estimated_minutes,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        # The same id at the same moment from a retrying client: the other one stored it.
        session.rollback()
        existing = session.get(TrainingSession, row.id)
        if existing is None or existing.user_id != user.id:
            raise
        return session_public(existing, session.get(SessionLogRow, existing.id)), False
    return session_public(row, None), True


# --- reading sessions ------------------------------------------------------------------


def _own_session(session: Session, user: User, session_id: uuid.UUID) -> TrainingSession:
    row = session.get(TrainingSession, session_id)
    if row is None or row.user_id != user.id:
        raise NotFound("No such session.")
    return row


def get_session(session: Session, user: User, session_id: uuid.UUID) -> SessionPublic:
    row = _own_session(session, user, session_id)
    summary = session_summaries(session, [row.id]).get(row.id)
    return session_public(row, session.get(SessionLogRow, row.id), summary)


def list_sessions(
    session: Session,
    user: User,
    *,
    since: datetime | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[SessionPublic], str | None]:
    stmt = select(TrainingSession).where(TrainingSession.user_id == user.id)
    if since is not None:
        stmt = stmt.where(col(TrainingSession.updated_at) >= since)
    if status is not None:
        stmt = stmt.where(TrainingSession.status == status)
    rows, next_cursor = keyset_page(
        session,
        stmt,
        time_col=TrainingSession.updated_at,
        id_col=TrainingSession.id,
        limit=limit,
        cursor=cursor,
    )
    ids = [r.id for r in rows]
    logs = (
        {
            log.session_id: log
            for log in session.exec(
                select(SessionLogRow).where(col(SessionLogRow.session_id).in_(ids))
            ).all()
        }
        if ids
        else {}
    )
    summaries = session_summaries(session, ids)
    return [session_public(r, logs.get(r.id), summaries.get(r.id)) for r in rows], next_cursor


# --- logs ------------------------------------------------------------------------------


def _log_hash(body: LogIn) -> str:
    data = body.model_dump(mode="json")
    data["started_at"] = body.started_at.astimezone(UTC).isoformat()
    data["ended_at"] = body.ended_at.astimezone(UTC).isoformat()
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _check_log(body: LogIn, planned: TrainingSession, now: datetime) -> None:
    errors: list[tuple[str, str]] = []
    if body.ended_at < body.started_at:
        errors.append(("ended_at", "is before started_at"))
    elif body.ended_at - body.started_at > MAX_SESSION_LENGTH:
        errors.append(("ended_at", "a session cannot last more than 6 hours"))
    if body.started_at > now + CLOCK_SKEW:
        errors.append(("started_at", "is in the future; check the device's clock"))
    planned_slugs = {i["exercise_slug"] for i in planned.items}
    seen: set[str] = set()
    for index, entry in enumerate(body.entries):
        if entry.exercise_slug not in planned_slugs:
            errors.append(
                (
                    f"entries.{index}.exercise_slug",
                    f"{entry.exercise_slug!r} is not in this session",
                )
            )
        if entry.exercise_slug in seen:
            errors.append((f"entries.{index}.exercise_slug", "listed twice"))
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
    now: datetime,
    *,
    if_match: str | None = None,
) -> tuple[LogPublic, AdvicePublic, list[RoutineItemPublic], str]:
    """Store (or correct) a session's log, then evaluate and apply the rules once.

    The same body again is a retry and changes nothing. Another body replaces a stored
    log only with `If-Match` naming the stored version, so a late retry of an old
    version can never overwrite a correction.
    """
    planned = _own_session(session, user, session_id)
    _check_log(body, planned, now)
    digest = _log_hash(body)
    existing = session.get(SessionLogRow, session_id)
    if existing is not None and existing.body_hash == digest:
        evaluation = evaluate_and_apply(session, user.id, now)
        session.commit()
        return (
            log_public(existing),
            advice_public(evaluation.advice),
            active_items(evaluation),
            log_etag(existing),
        )
    if existing is not None:
        check_if_match(if_match, log_etag(existing), required=True)
    entries = [e.model_dump(mode="json") for e in body.entries]
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
            catalog = load_catalog(session)
            routine = ensure_routine(session, user.id, catalog, now)
            revert_decisions(session, user.id, str(session_id), routine, now)
        existing.started_at, existing.ended_at = started, ended
        existing.entries, existing.pain_after = entries, body.pain_after
        existing.body_hash = digest
        existing.version += 1
        existing.updated_at = now
        log = existing
    else:
        log = SessionLogRow(
            session_id=session_id,
            user_id=user.id,
            started_at=started,
            ended_at=ended,
            entries=entries,
            pain_after=body.pain_after,
            body_hash=digest,
            received_at=now,
            updated_at=now,
        )
        session.add(log)
    planned.status = "completed"
    planned.updated_at = now
    session.add(planned)
    try:
        session.flush()
    except IntegrityError as exc:
        # The same log arrived twice at once; the other request stored and applied it.
        session.rollback()
        stored = session.get(SessionLogRow, session_id)
        if stored is None or stored.body_hash != digest:
            raise Conflict(
                "This session's log changed while yours was being saved; retry."
            ) from exc
        log = stored
    evaluation = evaluate_and_apply(session, user.id, now)
    session.commit()
    return (
        log_public(log),
        advice_public(evaluation.advice),
        active_items(evaluation),
        log_etag(log),
    )


# --- progress --------------------------------------------------------------------------


def _streak(days: Iterable[date], today: date) -> int:
    have = set(days)
    start = today if today in have else today - timedelta(days=1)
    streak = 0
    while start - timedelta(days=streak) in have:
        streak += 1
    return streak


def progress_view(session: Session, user: User, now: datetime, days: int) -> ProgressPublic:
    catalog = load_catalog(session)
    routine = ensure_routine(session, user.id, catalog, now)
    session.commit()
    tz = user.timezone
    changes = session.exec(
        select(DoseChange)
        .where(DoseChange.user_id == user.id)
        .order_by(col(DoseChange.at), col(DoseChange.id))
    ).all()
    history: dict[str, list[DoseStep]] = defaultdict(list)
    for c in changes:
        if c.from_dose == c.to_dose:
            continue
        history[c.exercise_slug].append(
            DoseStep(
                at=c.at,
                rule_id=c.rule_id,
                exercise_slug=c.to_exercise_slug,
                sets=c.to_dose["sets"],
                reps=c.to_dose["reps"],
                hold_seconds=c.to_dose["hold_seconds"],
            )
        )
    exercises = [
        ExerciseProgress(
            exercise_slug=slug,
            name=catalog[slug].name if slug in catalog else slug,
            active=item.active,
            current=routine_item_public(item, catalog),
            history=history.get(slug, []),
        )
        for slug, item in sorted(routine.items())
    ]

    logs = session.exec(
        select(SessionLogRow.started_at, SessionLogRow.ended_at).where(
            SessionLogRow.user_id == user.id,
            col(SessionLogRow.started_at) >= now - STREAK_LOOKBACK,
            col(SessionLogRow.started_at) <= now + CLOCK_SKEW,
        )
    ).all()
    total = session.exec(
        select(func.count()).select_from(SessionLogRow).where(SessionLogRow.user_id == user.id)
    ).one()
    recent = [s for s, _ in logs if s >= now - timedelta(weeks=ADHERENCE_WEEKS)]
    week = [(s, e) for s, e in logs if s >= now - timedelta(days=7)]
    adherence = Adherence(
        sessions_per_week=round(len(recent) / ADHERENCE_WEEKS, 2),
        streak_days=_streak((_local_date(s, tz) for s, _ in logs), _local_date(now, tz)),
        minutes_last_7_days=round(sum((e - s).total_seconds() for s, e in week) / 60, 1),
        sessions_total=total,
    )

    since = now - timedelta(days=min(days, MAX_PAIN_DAYS))
    pains = session.exec(
        select(CheckInRow.recorded_at, CheckInRow.pain, CheckInRow.phase).where(
            CheckInRow.user_id == user.id,
            col(CheckInRow.recorded_at) >= since,
            col(CheckInRow.recorded_at) <= now + CLOCK_SKEW,
        )
    ).all()
    per_day: dict[date, list[int]] = defaultdict(list)
    for at, pain, phase in pains:
        if phase in REST_PHASES:
            per_day[_local_date(at, tz)].append(pain)
    series = [
        PainDay(date=d, mean=round(fmean(v), 2), min=min(v), max=max(v), count=len(v))
        for d, v in sorted(per_day.items())
    ]
    return ProgressPublic(timezone=tz, exercises=exercises, adherence=adherence, pain=series)
