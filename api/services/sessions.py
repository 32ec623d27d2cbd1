"""Building today's session, and reading stored sessions."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from api.domain.builder import BuildError, CatalogExercise, Plan, Request, build
from api.domain.decisions import prescribable, refusal, refuses_sessions, session_scope
from api.domain.evidence import local_day, zone
from api.domain.screening import Gate
from api.domain.steps import personal_steps
from api.errors import (
    ClientIdReused,
    ClinicianClearanceRequired,
    ExerciseBlocked,
    FieldError,
    FieldIssue,
    NotFound,
    ScreeningRequired,
)
from api.models import SessionLogRow, TrainingSession, User
from api.pagination import keyset_page
from api.schemas.training import SessionCreate, SessionItem, SessionPublic
from api.services.advice import advice_public
from api.services.catalog_snapshot import Snapshot
from api.services.evaluation import evaluate_person
from api.services.routine_views import session_public
from api.services.store import insert_or_existing
from api.services.wearable_summaries import session_summaries


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
    errors: list[FieldIssue] = []
    muscles = {m.slug for m in snap.muscles}
    gear = {e.slug for e in snap.equipment}
    unknown = [m for m in body.focus if m not in muscles]
    if unknown:
        errors.append(("focus", f"unknown muscle(s): {', '.join(unknown)}", "unknown"))
    unknown = [g for g in body.equipment or [] if g not in gear]
    if unknown:
        errors.append(("equipment", f"unknown equipment: {', '.join(unknown)}", "unknown"))
    unknown = [x for x in body.exclude if x not in snap.by_slug]
    if unknown:
        errors.append(("exclude", f"unknown exercise(s): {', '.join(unknown)}", "unknown"))
    if errors:
        raise FieldError(errors)


def _seed(user: User, now: datetime) -> int:
    # Same person, same day: the same session; another day: another pick among equals.
    day = local_day(now, zone(user.timezone)).isoformat()
    return int(hashlib.sha256(f"{user.id}:{day}".encode()).hexdigest()[:12], 16)


def _items(plan: Plan, snap: Snapshot) -> list[dict[str, object]]:
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
            steps=personal_steps(
                snap.by_slug[i.exercise_slug].steps if i.exercise_slug in snap.by_slug else (),
                i.reps,
                i.hold_seconds,
                i.sets,
            ),
        ).model_dump()
        for i in plan.items
    ]


def _stored(session: Session, user: User, existing: TrainingSession) -> SessionPublic:
    if existing.user_id != user.id:
        raise ClientIdReused("This session id is already used; generate a new one.")
    return session_public(existing, session.get(SessionLogRow, existing.id))


def _check_gates(gates: list[Gate], advice: dict[str, Any], session: Session) -> None:
    if not gates:
        return
    # What the evaluation stored (a starting routine, new advice) is kept.
    session.commit()
    if "screening_required" in gates:
        raise ScreeningRequired(
            "Answer the screening questions before your first session "
            "(PUT /v1/me/screening); they decide which exercises are safe for you.",
            extra={"advice": advice},
        )
    why = {
        "spinal_surgery_last_12_months": "you had spinal surgery in the last 12 months",
        "under_16": "you are under 16",
    }
    raise ClinicianClearanceRequired(
        f"No session yet: {' and '.join(why[g] for g in gates)}, so a linked clinician "
        "must clear the exercises that suit you, after this answer (an earlier clearance "
        "does not cover it). Not linked yet? Link them with their invitation code "
        "(POST /v1/me/clinicians).",
        extra={"gates": list(gates), "advice": advice},
    )


def build_session(
    session: Session, user: User, body: SessionCreate, snap: Snapshot, now: datetime
) -> tuple[SessionPublic, bool]:
    """Build and store today's session. Returns (session, newly created)."""
    if body.id is not None:
        existing = session.get(TrainingSession, body.id)
        if existing is not None:
            return _stored(session, user, existing), False
    _check_request(body, snap)
    evaluation = evaluate_person(session, user, now, snap.rule_catalog, record=True)
    advice = advice_public(evaluation.advice)
    if refuses_sessions(evaluation.advice):
        session.commit()
        raise ExerciseBlocked(
            refusal(evaluation.advice),
            extra={"advice": advice.model_dump(mode="json")},
        )
    _check_gates(evaluation.screen.gates, advice.model_dump(mode="json"), session)
    clearance = evaluation.clearance
    doses = prescribable(evaluation.routine, clearance)
    warm_up = {e.slug for e in snap.exercises if e.category == "warmup"}
    waiting = clearance.waiting(evaluation.today(user.timezone)) - warm_up
    request = Request(
        minutes=body.minutes or user.session_minutes,
        equipment=frozenset(body.equipment if body.equipment is not None else user.equipment),
        focus=frozenset(body.focus),
        # Exercises a clinician scheduled for later are left out until their start date.
        exclude=frozenset(body.exclude) | waiting,
        cleared=clearance.cleared,
        screened_out=clearance.excluded,
    )
    try:
        plan = build(
            _builder_catalog(snap),
            doses,
            session_scope(evaluation.advice),
            request,
            seed=_seed(user, now),
        )
    except BuildError as exc:
        err = FieldError([(exc.field, exc.message, "unavailable")], detail=exc.message)
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
        items=_items(plan, snap),
        notes=list(plan.notes),
        note_items=[dataclasses.asdict(n) for n in plan.note_items],
        dropped=list(plan.dropped),
        estimated_minutes=plan.estimated_minutes,
        created_at=now,
        updated_at=now,
    )
    # The same id at the same moment from a retrying client: the other one stored it.
    stored = insert_or_existing(session, row, lambda: session.get(TrainingSession, row.id))
    if stored is not None:
        return _stored(session, user, stored), False
    session.commit()
    return session_public(row, None), True


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
