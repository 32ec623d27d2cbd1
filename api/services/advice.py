"""Evaluate the rules for a person, apply their dose decisions once, keep the advice.

Every path that can change the advice (a check-in, a workout log, building a
session, reading the advice) calls `evaluate_and_apply`. Dose changes go through
a ledger keyed by (rule, exercise, triggering data), so the same evidence moves a
dose once however many times it is evaluated, and retries never double a step.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, delete, select

from api.domain.ladder import CatalogDose, first_dose, step_down, step_up
from api.domain.rules import WINDOW, evaluate
from api.domain.thresholds import DEFAULT_THRESHOLDS, ThresholdError, Thresholds
from api.domain.types import Advice, CheckIn, Dose, History, LogEntry, SessionLog
from api.models import (
    AdviceRow,
    CheckInRow,
    DoseChange,
    Exercise,
    RoutineItem,
    SessionLogRow,
    TrainingSession,
    UserThresholds,
)
from api.schemas.pain import AdvicePublic, ReasonPublic
from api.services.clinicians import (
    Clearance,
    alert_on_advice,
    clearance_for,
    last_clinician_resolution,
)

# Rules whose decisions move doses, and which way.
STEP_UP_RULES = {"P4"}
STEP_DOWN_RULES = {"P1", "P2", "F1"}


@dataclass(frozen=True)
class CatalogInfo:
    slug: str
    name: str
    category: str
    archived: bool
    dose: CatalogDose


def load_catalog(session: Session) -> dict[str, CatalogInfo]:
    rows = session.exec(select(Exercise)).all()
    return {
        r.slug: CatalogInfo(
            r.slug,
            r.name,
            r.category,
            r.archived,
            CatalogDose(
                r.slug,
                r.sets,
                r.reps_min,
                r.reps_max,
                r.hold_seconds,
                r.hold_seconds_max,
                r.per_side,
                r.easier_slug,
                r.harder_slug,
            ),
        )
        for r in rows
    }


def dose_of(item: RoutineItem) -> Dose:
    return Dose(item.exercise_slug, item.sets, item.reps, item.hold_seconds, item.per_side)


def dose_dict(d: Dose) -> dict[str, Any]:
    return {
        "exercise_slug": d.exercise_slug,
        "sets": d.sets,
        "reps": d.reps,
        "hold_seconds": d.hold_seconds,
        "per_side": d.per_side,
    }


def _set_dose(item: RoutineItem, d: Dose, now: datetime) -> None:
    item.sets, item.reps, item.hold_seconds, item.per_side = (
        d.sets,
        d.reps,
        d.hold_seconds,
        d.per_side,
    )
    item.updated_at = now


def insert_ignoring_duplicates(session: Session, table: Any, rows: list[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING; returns how many rows went in.

    Concurrent requests for one person (two GETs of the advice, a retry racing its
    original) may try the same insert; the loser learns it from the count instead of
    failing with an integrity error.
    """
    if not rows:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        stmt: Any = pg_insert(table).values(rows).on_conflict_do_nothing()
    else:
        stmt = sqlite_insert(table).values(rows).on_conflict_do_nothing()
    result = session.exec(stmt)
    return int(result.rowcount)


def ensure_routine(
    session: Session, user_id: uuid.UUID, catalog: Mapping[str, CatalogInfo], now: datetime
) -> dict[str, RoutineItem]:
    """The person's routine; exercises new to them start at the catalog's easiest dose."""

    def load() -> dict[str, RoutineItem]:
        rows = session.exec(select(RoutineItem).where(RoutineItem.user_id == user_id)).all()
        return {r.exercise_slug: r for r in rows}

    items = load()
    missing = []
    for info in catalog.values():
        if info.slug in items or info.category == "warmup" or info.archived:
            continue
        d = first_dose(info.dose)
        missing.append(
            {
                "user_id": user_id,
                "exercise_slug": info.slug,
                "sets": d.sets,
                "reps": d.reps,
                "hold_seconds": d.hold_seconds,
                "per_side": d.per_side,
                # A harder variation starts once its easier one is mastered.
                "active": info.dose.easier is None,
                "created_at": now,
                "updated_at": now,
            }
        )
    if missing:
        insert_ignoring_duplicates(session, RoutineItem, missing)
        items = load()
    return items


def active_doses(
    routine: Mapping[str, RoutineItem],
    catalog: Mapping[str, CatalogInfo],
    clearance: Clearance | None = None,
) -> tuple[Dose, ...]:
    """The doses in force: active, in the catalog, and within a clinician's caps."""
    return tuple(
        clearance.cap(dose_of(item)) if clearance else dose_of(item)
        for slug, item in sorted(routine.items())
        if item.active and slug in catalog and not catalog[slug].archived
    )


def _to_domain(row: CheckInRow) -> CheckIn:
    return CheckIn(
        id=str(row.id),
        recorded_at=row.recorded_at,
        phase=row.phase,  # type: ignore[arg-type]
        pain=row.pain,
        session_id=str(row.session_id) if row.session_id else None,
        exercise_slug=row.exercise_slug,
        red_flags=frozenset(name for name, yes in row.red_flags.items() if yes),
        red_flags_resolved=row.red_flags_resolved,
        received_at=row.received_at,
    )


def log_to_domain(log: SessionLogRow, planned: Sequence[Mapping[str, Any]]) -> SessionLog:
    prescribed = {
        i["exercise_slug"]: Dose(
            i["exercise_slug"], i["sets"], i["reps"], i["hold_seconds"], i["per_side"]
        )
        for i in planned
    }
    entries = []
    for e in log.entries:
        dose = prescribed.get(e["exercise_slug"])
        if dose is None:
            continue
        entries.append(
            LogEntry(
                exercise_slug=e["exercise_slug"],
                prescribed=dose,
                sets_completed=e["sets_completed"],
                reps=tuple(e["reps"]),
                hold_seconds=e.get("hold_seconds"),
                rpe=e.get("rpe"),
                pain_during=e.get("pain_during"),
                skipped=e.get("skipped", False),
            )
        )
    return SessionLog(
        session_id=str(log.session_id),
        started_at=log.started_at,
        ended_at=log.ended_at,
        entries=tuple(entries),
        pain_after=log.pain_after,
    )


def load_history(
    session: Session, user_id: uuid.UUID, now: datetime, doses: tuple[Dose, ...] = ()
) -> History:
    """The bounded window the rules read, plus the latest red flags and resolution ever
    (one index seek each, however long the history)."""
    since = now - WINDOW
    recent = session.exec(
        select(CheckInRow).where(
            CheckInRow.user_id == user_id,
            col(CheckInRow.recorded_at) >= since,
            col(CheckInRow.recorded_at) <= now,
        )
    ).all()

    def latest(flag: Any) -> CheckInRow | None:
        return session.exec(
            select(CheckInRow)
            .where(CheckInRow.user_id == user_id, col(flag).is_(True))
            .order_by(col(CheckInRow.recorded_at).desc())
            .limit(1)
        ).first()

    def domain(row: CheckInRow | None) -> CheckIn | None:
        return _to_domain(row) if row is not None else None

    logs = session.exec(
        select(SessionLogRow, TrainingSession.items)
        .join(TrainingSession, col(TrainingSession.id) == col(SessionLogRow.session_id))
        .where(
            SessionLogRow.user_id == user_id,
            col(SessionLogRow.started_at) >= since,
            col(SessionLogRow.started_at) <= now,
        )
    ).all()
    return History(
        checkins=tuple(_to_domain(r) for r in recent),
        logs=tuple(log_to_domain(log, items) for log, items in logs),
        doses=doses,
        last_cauda_equina=domain(latest(CheckInRow.cauda_equina)),
        last_serious_cause=domain(latest(CheckInRow.serious_cause)),
        last_night_pain=domain(latest(CheckInRow.night_pain)),
        last_resolution=_latest_resolution(
            domain(latest(CheckInRow.red_flags_resolved)),
            last_clinician_resolution(session, user_id),
        ),
    )


def _latest_resolution(own: CheckIn | None, by_clinician: datetime | None) -> CheckIn | None:
    """A linked clinician's resolution counts like the person's own resolution check-in."""
    if by_clinician is None:
        return own
    theirs = CheckIn(
        id=f"clinician:{by_clinician.isoformat()}",
        recorded_at=by_clinician,
        phase="daily",
        pain=0,
        red_flags_resolved=True,
        received_at=by_clinician,
    )
    if own is None or theirs.recorded_at > own.recorded_at:
        return theirs
    return own


def thresholds_for(session: Session, user_id: uuid.UUID) -> Thresholds:
    row = session.get(UserThresholds, user_id)
    if row is None or not row.values:
        return DEFAULT_THRESHOLDS
    try:
        return DEFAULT_THRESHOLDS.with_overrides(row.values)
    except ThresholdError:
        # Stored values were valid when set; if bounds tightened since, the defaults win.
        return DEFAULT_THRESHOLDS


def advice_public(advice: Advice) -> AdvicePublic:
    return AdvicePublic(
        status=advice.status,
        reasons=[
            ReasonPublic(
                rule_id=r.rule_id,
                status=r.status,
                message=r.message,
                evidence=r.evidence,
                exercises=list(r.exercises),
            )
            for r in advice.reasons
        ],
        exercises=dict(advice.exercises),
        ruleset_version=advice.ruleset_version,
        evaluated_at=advice.evaluated_at,
    )


def fingerprint(advice: Advice) -> str:
    """Same status, same rules for the same exercises, same actions: the same advice."""
    key = {
        "status": advice.status,
        "reasons": sorted([r.rule_id, r.status, list(r.exercises)] for r in advice.reasons),
        "exercises": advice.exercises,
        "ruleset": advice.ruleset_version,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _store_if_changed(session: Session, user_id: uuid.UUID, advice: Advice) -> None:
    digest = fingerprint(advice)
    latest = session.exec(
        select(AdviceRow.fingerprint, AdviceRow.status)
        .where(AdviceRow.user_id == user_id)
        .order_by(col(AdviceRow.evaluated_at).desc(), col(AdviceRow.id).desc())
        .limit(1)
    ).first()
    if latest is not None and latest[0] == digest:
        return
    previous_status = latest[1] if latest is not None else None
    public = advice_public(advice)
    row = AdviceRow(
        user_id=user_id,
        status=advice.status,
        reasons=[r.model_dump(mode="json") for r in public.reasons],
        exercises=dict(advice.exercises),
        ruleset_version=advice.ruleset_version,
        evaluated_at=advice.evaluated_at,
        fingerprint=digest,
    )
    session.add(row)
    session.flush()
    if advice.status != previous_status:
        # Clinicians hear when the status turns to a doctor or urgent care, not of
        # every change of reasons within it.
        alert_on_advice(
            session,
            user_id,
            row.id,
            advice.status,
            [r.rule_id for r in advice.reasons],
            advice.evaluated_at,
        )


def _decisions(advice: Advice) -> list[tuple[str, str, str, int]]:
    """(key, rule, exercise, direction) for every dose-moving decision in the advice."""
    out = []
    for reason in advice.reasons:
        if reason.rule_id in STEP_UP_RULES and reason.status == "progress":
            direction = 1
        elif reason.rule_id in STEP_DOWN_RULES and reason.status in ("regress", "see_doctor"):
            direction = -1
        else:
            continue
        for slug in reason.exercises:
            out.append(
                (f"{reason.rule_id}:{slug}:{reason.source}", reason.rule_id, slug, direction)
            )
    return out


def apply_decisions(
    session: Session,
    user_id: uuid.UUID,
    advice: Advice,
    routine: dict[str, RoutineItem],
    catalog: Mapping[str, CatalogInfo],
    now: datetime,
    clearance: Clearance | None = None,
) -> list[DoseChange]:
    decisions = _decisions(advice)
    if not decisions:
        return []
    keys = [d[0] for d in decisions]
    done = set(
        session.exec(
            select(DoseChange.decision_key).where(
                DoseChange.user_id == user_id, col(DoseChange.decision_key).in_(keys)
            )
        ).all()
    )
    ladders = {slug: info.dose for slug, info in catalog.items()}
    moved: set[str] = set()
    changes: list[DoseChange] = []
    for key, rule, slug, direction in decisions:
        item = routine.get(slug)
        if key in done or item is None or not item.active:
            continue
        # Steps start from the dose in force, which a clinician's cap may hold below the
        # stored one: a regression must lower what the person actually does.
        current = clearance.cap(dose_of(item)) if clearance else dose_of(item)
        target: Dose | None = None
        # One step per exercise per evaluation, whatever the number of reasons.
        if slug not in moved:
            target = step_up(current, ladders) if direction > 0 else step_down(current, ladders)
        target = target or current
        if direction > 0 and clearance is not None and not clearance.permits(current, target):
            target = current  # a clinician's cap or clearance: the ladder stops here
        change = DoseChange(
            user_id=user_id,
            decision_key=key,
            rule_id=rule,
            source=key.rsplit(":", 1)[-1],
            exercise_slug=slug,
            to_exercise_slug=target.exercise_slug,
            at=now,
            from_dose=dose_dict(current),
            to_dose=dose_dict(target),
        )
        done.add(key)
        # The ledger row goes in first; if a concurrent request got there, it applied the
        # decision and this one must not apply it again.
        if not insert_ignoring_duplicates(session, DoseChange, [change.model_dump()]):
            continue
        if target != current:
            _apply(session, user_id, routine, item, target, now)
            moved.add(slug)
        changes.append(change)
    return changes


def _apply(
    session: Session,
    user_id: uuid.UUID,
    routine: dict[str, RoutineItem],
    item: RoutineItem,
    target: Dose,
    now: datetime,
) -> None:
    if target.exercise_slug == item.exercise_slug:
        _set_dose(item, target, now)
        return
    # Past the top or below the floor: move to the harder or easier variation.
    item.active = False
    item.updated_at = now
    other = routine.get(target.exercise_slug)
    if other is None:
        other = RoutineItem(user_id=user_id, exercise_slug=target.exercise_slug, sets=1)
        session.add(other)
        routine[target.exercise_slug] = other
    other.active = True
    _set_dose(other, target, now)


def revert_decisions(
    session: Session,
    user_id: uuid.UUID,
    source: str,
    routine: dict[str, RoutineItem],
    now: datetime,
) -> None:
    """Undo the dose changes a log caused (it is being corrected), newest first.

    A change is only undone while the dose is still what it set; later changes built
    on top of it stand.
    """
    rows = session.exec(
        select(DoseChange)
        .where(DoseChange.user_id == user_id, DoseChange.source == source)
        .order_by(col(DoseChange.at).desc())
    ).all()
    for row in rows:
        target = routine.get(row.to_exercise_slug)
        original = routine.get(row.exercise_slug)
        if (
            target is not None
            and original is not None
            and dose_dict(dose_of(target)) == row.to_dose
        ):
            restored = Dose(**row.from_dose)
            if row.to_exercise_slug != row.exercise_slug:
                target.active = False
                original.active = True
            _set_dose(original, restored, now)
    session.exec(
        delete(DoseChange).where(
            col(DoseChange.user_id) == user_id, col(DoseChange.source) == source
        )
    )


@dataclass
class Evaluation:
    advice: Advice
    routine: dict[str, RoutineItem]
    catalog: dict[str, CatalogInfo]
    changes: list[DoseChange]
    clearance: Clearance


def evaluate_and_apply(session: Session, user_id: uuid.UUID, now: datetime) -> Evaluation:
    """Evaluate the rules now, apply new dose decisions, keep the advice if it changed.

    Adds to the caller's transaction; the caller commits.
    """
    catalog = load_catalog(session)
    routine = ensure_routine(session, user_id, catalog, now)
    clearance = clearance_for(session, user_id)
    doses = active_doses(routine, catalog, clearance)
    history = load_history(session, user_id, now, doses)
    advice = evaluate(
        history,
        now,
        thresholds=thresholds_for(session, user_id),
        catalog={slug: info.dose for slug, info in catalog.items()},
    )
    changes = apply_decisions(session, user_id, advice, routine, catalog, now, clearance)
    _store_if_changed(session, user_id, advice)
    return Evaluation(advice, routine, catalog, changes, clearance)
