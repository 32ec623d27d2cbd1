"""Progress for charts: dose history, adherence and daily pain, by the person's local day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from statistics import fmean

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.domain.catalog import CatalogInfo
from api.domain.evidence import local_day, zone
from api.domain.types import REST_PHASES
from api.models import CheckInRow, DoseChange, OutcomeRow, SessionLogRow, User
from api.schemas.progress import (
    Adherence,
    DoseStep,
    ExerciseProgress,
    OutcomePoint,
    PainDay,
    ProgressPublic,
)
from api.services.clock import latest_accepted
from api.services.evaluation import evaluate_person
from api.services.routine_views import routine_item_public
from api.services.screening import outcome_public

ADHERENCE_WEEKS = 4
STREAK_LOOKBACK = timedelta(days=366)
MAX_PAIN_DAYS = 365


def _streak(days: Iterable[date], today: date) -> int:
    have = set(days)
    start = today if today in have else today - timedelta(days=1)
    streak = 0
    while start - timedelta(days=streak) in have:
        streak += 1
    return streak


def _dose_history(session: Session, user: User) -> dict[str, list[DoseStep]]:
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
    return history


def _adherence(session: Session, user: User, now: datetime) -> Adherence:
    tz = zone(user.timezone)
    logs = session.exec(
        select(SessionLogRow.started_at, SessionLogRow.ended_at).where(
            SessionLogRow.user_id == user.id,
            col(SessionLogRow.started_at) >= now - STREAK_LOOKBACK,
            col(SessionLogRow.started_at) <= latest_accepted(now),
        )
    ).all()
    total = session.exec(
        select(func.count()).select_from(SessionLogRow).where(SessionLogRow.user_id == user.id)
    ).one()
    recent = [s for s, _ in logs if s >= now - timedelta(weeks=ADHERENCE_WEEKS)]
    week = [(s, e) for s, e in logs if s >= now - timedelta(days=7)]
    return Adherence(
        sessions_per_week=round(len(recent) / ADHERENCE_WEEKS, 2),
        streak_days=_streak((local_day(s, tz) for s, _ in logs), local_day(now, tz)),
        minutes_last_7_days=round(sum((e - s).total_seconds() for s, e in week) / 60, 1),
        sessions_total=total,
    )


def _pain_series(session: Session, user: User, now: datetime, days: int) -> list[PainDay]:
    tz = zone(user.timezone)
    since = now - timedelta(days=min(days, MAX_PAIN_DAYS))
    pains = session.exec(
        select(CheckInRow.recorded_at, CheckInRow.pain, CheckInRow.phase).where(
            CheckInRow.user_id == user.id,
            col(CheckInRow.recorded_at) >= since,
            col(CheckInRow.recorded_at) <= latest_accepted(now),
        )
    ).all()
    per_day: dict[date, list[int]] = defaultdict(list)
    for at, pain, phase in pains:
        if phase in REST_PHASES:
            per_day[local_day(at, tz)].append(pain)
    return [
        PainDay(date=d, mean=round(fmean(v), 2), min=min(v), max=max(v), count=len(v))
        for d, v in sorted(per_day.items())
    ]


def _outcome_series(
    session: Session, user: User, now: datetime, days: int
) -> dict[str, list[OutcomePoint]]:
    since = now - timedelta(days=min(days, MAX_PAIN_DAYS))
    rows = session.exec(
        select(OutcomeRow.instrument, OutcomeRow.recorded_at, OutcomeRow.score, OutcomeRow.band)
        .where(OutcomeRow.user_id == user.id, col(OutcomeRow.recorded_at) >= since)
        .order_by(col(OutcomeRow.recorded_at), col(OutcomeRow.id))
    ).all()
    series: dict[str, list[OutcomePoint]] = defaultdict(list)
    for instrument, at, score, band in rows:
        series[instrument].append(OutcomePoint(recorded_at=at, score=score, band=band))
    return dict(sorted(series.items()))


def progress_view(
    session: Session, user: User, catalog: Mapping[str, CatalogInfo], now: datetime, days: int
) -> ProgressPublic:
    """Read-only: doses as the next write will store them (as GET /v1/routine shows)."""
    evaluation = evaluate_person(session, user, now, catalog, record=False)
    routine = evaluation.routine
    history = _dose_history(session, user)
    exercises = [
        ExerciseProgress(
            exercise_slug=slug,
            name=catalog[slug].name if slug in catalog else slug,
            active=entry.active,
            current=routine_item_public(slug, entry, catalog, with_steps=False),
            history=history.get(slug, []),
        )
        for slug, entry in sorted(routine.items())
    ]
    screening_outcome = outcome_public(evaluation.screen, catalog)
    return ProgressPublic(
        timezone=user.timezone,
        exercises=exercises,
        adherence=_adherence(session, user, now),
        pain=_pain_series(session, user, now, days),
        outcomes=_outcome_series(session, user, now, days),
        excluded=screening_outcome.excluded,
        limited=screening_outcome.limited,
    )
